"""A day of an MPP, simulated: citizens arrive, officers call, and the real engine decides.

The simulation is a plain discrete-event loop (a heap of timed happenings) around the
real `Engine`: tickets are issued with `engine.issue`, officers press NEXT with
`engine.command(..., "call_next")` when they are free, hold it for a no-show, close at
the end of their shift -- the queue rules (priority streaks, quotas, opening hours,
longest-waiting first across a counter's services) are the engine's own, never copied.
The events it produces are written into a store and read back by the ordinary report,
so a prediction reads exactly like a real day.

Who comes is drawn up front, per service from its own random stream: arrival time,
priority, service time (lognormal around the service's mean) and whether they will
not show up. Two runs with the same seed therefore meet the same citizens, whatever
the counters do (common random numbers), which is what makes "one more counter" a
fair comparison.

    scenario = Scenario.build(config, day, arrivals=None, counters="default,loket9=loket1")
    result = run(scenario, seed=1)
    report = result.report()          # antrian.tools.report.figures.Report of the simulated day

Arrivals: by default each service expects its daily quota on its fullest day of the week
and, on a shorter day, the same citizens an hour for the hours it is open (or, without a
quota, what one counter can serve in its opening hours), spread with a morning peak; a YAML file can set rates per hour, service times, no-show and priority
shares and the staffing (see `examples/simulasi-buton.yaml`).

Bookings (bookings.py): a service that takes bookings has a share of its citizens book
a slot near the time they would come -- the site file's booking share unless the
scenario sets `booking: {share, no_show, offset_min, spread_min}` -- through the
engine's `book` when booking opens; they come to the kiosk around their slot and check
in through `check_in`, or stay away and expire, so the simulated waits follow the
engine's ordering rule (a checked-in booking is queued by its slot's start).
"""

from antrian.tools.simulate.day import Citizen, Result, citizens, run
from antrian.tools.simulate.files import notes, write
from antrian.tools.simulate.scenario import (DEFAULT_CV, DEFAULT_NO_SHOW, DEFAULT_PRIORITY, HARD_STOP, PEAK, BookingPlan,
                                             Scenario, ServicePlan, default_rates, first_open_day, load_arrivals,
                                             open_pieces)

__all__ = ["DEFAULT_CV", "DEFAULT_NO_SHOW", "DEFAULT_PRIORITY", "HARD_STOP", "PEAK", "BookingPlan", "Citizen", "Result",
           "Scenario", "ServicePlan", "citizens", "default_rates", "first_open_day", "load_arrivals", "notes",
           "open_pieces", "run", "write"]
