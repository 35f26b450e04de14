"""Operations: serving, the embedded demo, and (later) backup and terminal monitoring."""
