"""The host-wide nbgrader configuration of a hub that runs backprop-lab: copy it to
/etc/jupyter/nbgrader_config.py (deploy/README.md). Every account's nbgrader reads it: the
students' servers, the instructors' and the formgrader service.

This is nbgrader's set-up for several courses and graders on one JupyterHub ("Using nbgrader
with JupyterHub", multiple classes): the hub's groups say who takes and who grades which course.
"""

from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

# The exchange: one folder for the host, every course in its own sub-folder. Create it once as
# root: mkdir -p /srv/nbgrader/exchange && chmod 1777 /srv/nbgrader/exchange
c.Exchange.root = "/srv/nbgrader/exchange"
c.Exchange.path_includes_course = True

# Students see the assignments of the courses whose nbgrader-<course> group they are in, and
# instructors the formgraders of their formgrade-<course> groups: JupyterHub's groups.
c.Authenticator.plugin_class = JupyterHubAuthPlugin
