"""Reports: the class's grades read from nbgrader's gradebook (:mod:`.gradebook`), as the
table ``grade-demo`` prints (:mod:`.results`) and as ``nbgrader export``'s CSV
(:mod:`.export`), and what each notebook asks of the students (:mod:`.depth`,
``backprop-lab course-table``)."""
