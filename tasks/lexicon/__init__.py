"""Word lists and gazetteers: titles, honorifics, first names, places."""
