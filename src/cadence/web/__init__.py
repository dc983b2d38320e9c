"""What cadence serves over HTTP: the calendar feed, a plain WSGI application."""
