"""The SEN2 person-level XML return: read, check (XSD and business rules), import."""
