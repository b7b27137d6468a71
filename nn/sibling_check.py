"""Fail at import, naming the culprit, when the `autograd` package found is not pluggrad's
(HIPS autograd, `pip install autograd`, installs a package of the same name). pluggrad's own
autograd checks `backends` as it loads. See backends/family.py."""

import autograd  # noqa: F401  (pluggrad's checks `backends`; any other imports as it likes)
import backends

backends.require_pluggrad("autograd", importer="nn")
