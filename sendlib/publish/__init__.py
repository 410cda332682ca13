"""Presentation: small-number suppression, generated sentences, charts in the house style and the
finance workbook. Imports the layers below it (core, data, quality, models), never the report runner."""
