"""The kiosk's screens: one Python module (behaviour) and one .kv file (layout) each.

`SCREENS` maps the ScreenManager names to their classes, in the order of the flow.
"""

from .confirm import ConfirmScreen
from .done import DoneScreen
from .home import HomeScreen
from .priority import PriorityScreen
from .reservasi import ReservasiScreen
from .services import ServicesScreen
from .survey import SurveyScreen

SCREENS = {
    "home": HomeScreen,
    "services": ServicesScreen,
    "priority": PriorityScreen,
    "confirm": ConfirmScreen,
    "done": DoneScreen,
    "survey": SurveyScreen,
    "reservasi": ReservasiScreen,
}
