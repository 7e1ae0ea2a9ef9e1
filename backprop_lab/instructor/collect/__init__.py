"""Collect: submissions into ``submitted/<student>/<assignment>/`` from where students handed
them in. nbgrader's exchange collects its own (``nbgrader collect``); an LMS's bulk download
goes through ``nbgrader zip_collect`` with this stage's collector (:mod:`.canvas`), which also
reads the LMS's roster that the grade export (:mod:`..reports.canvas`) writes back into."""
