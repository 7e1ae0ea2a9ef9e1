"""Pre-screen: what is wrong with the submissions before grading starts.

:mod:`.integrity` compares a submission's cells with the release (missing, duplicated,
stripped, edited or unknown graded cells, changed metadata) and repairs them, which the
hardening's repair step does to every submission; :mod:`.scan` looks at the answers' code
without running it (the reference, tampering); :mod:`.prescreen` reports both for a class.
"""
