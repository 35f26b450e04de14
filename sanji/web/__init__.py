"""The page shell: base layout, home page per role, static assets, language switch."""
