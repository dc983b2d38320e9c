"""Keeps pytest out of the template: its files are Jinja templates of a project, not tests to run.

plugins/test_template.py generates a project from them and runs that project's tests instead.
"""

collect_ignore_glob = ["*"]
