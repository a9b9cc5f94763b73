"""The public website: pages, join forms, the newsletter's pages, open data, feeds, sitemap and static files."""
