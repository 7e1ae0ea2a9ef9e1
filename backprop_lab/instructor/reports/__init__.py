"""Reports: the class's grades read from nbgrader's gradebook (:mod:`.gradebook`), as the
table ``grade-demo`` prints (:mod:`.results`) as ``nbgrader export``'s CSV
(:mod:`.export`) and as Canvas's gradebook import (:mod:`.canvas`), and what each notebook asks of the students (:mod:`.depth`,
``backprop-lab course-table``)."""
