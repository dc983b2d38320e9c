"""What cadence serves over HTTP: the calendar feed and the web page, WSGI applications."""
