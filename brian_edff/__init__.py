"""brian-edff: event-driven forward-forward (CSDP) learning in Brian2.

Importing the package registers its Brian2 device, ``edff_standalone``
(:mod:`brian_edff.device`), and the device's preferences
(``prefs.devices.edff_standalone.*``): any Brian2 script can then call
``set_device("edff_standalone")``.
"""

from . import device as _device  # noqa: F401  (registers edff_standalone)
from .brian2_suite import test

__version__ = "0.1.0"
__all__ = ["test", "__version__"]
