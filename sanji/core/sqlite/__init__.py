"""Django's SQLite backend with one queue for writers (``ENGINE = "sanji.core.sqlite"``)."""
