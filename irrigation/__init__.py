"""irrigation — daily watering plans for a city's young trees, lawns and shrub beds."""

from .errors import ConvergenceError as ConvergenceError
from .errors import InputError as InputError
from .errors import IrrigationError as IrrigationError
from .errors import ModelError as ModelError

__version__ = "0.1.0"
