"""The HTML page reader: a page's tree, headline, byline and dates, read once per page."""
