"""The report's PNG charts, labelled in Indonesian (matplotlib, the `report` extra).

matplotlib is imported here only, and only its object API (`Figure` on the Agg canvas,
no pyplot): no screen, no global state, nothing else in `antrian` needs it. Margins
are set from the label lengths rather than by a layout engine, which would draw every
figure twice (a third of the time `antrian simulate` may take).
"""

from __future__ import annotations

from pathlib import Path

from antrian.tools.report.figures import Report
from antrian.tools.report.words import angka, jam, short_name

DPI = 110
GREY = "#9E9E9E"


STYLE = {"font.size": 10, "axes.titlesize": 13, "axes.titleweight": "bold", "axes.spines.top": False,
         "axes.spines.right": False}
WIDTH_IN = 9.0


class _Figures:
    """Makes figures with the house style and margins fitted to the longest y label."""

    def __init__(self):
        try:
            import matplotlib
            from matplotlib.figure import Figure
        except ImportError as exc:
            raise ImportError(f"{exc}: install the report's libraries with pip install 'antrian-mpp[report]'") from None
        self.matplotlib, self.Figure = matplotlib, Figure

    def subplots(self, height_in: float, ylabels: list[str] = (), *, bottom_in: float = 0.65,
                 legend_in: float = 0.0):
        fig = self.Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
        # about 0.085 in per character of DejaVu Sans at 10 pt, plus the tick and the axis label
        left_in = max(0.85, 0.085 * max((len(t) for t in ylabels), default=0) + 0.35)
        fig.subplots_adjust(left=left_in / WIDTH_IN, right=1 - (0.25 + legend_in) / WIDTH_IN,
                            bottom=bottom_in / height_in, top=1 - 0.5 / height_in)
        return fig, fig.add_subplot()


def write_charts(report: Report, out: Path) -> dict[str, str]:
    """Draw every chart into `out`; {chart key: file name}."""
    plt = _Figures()
    files = {
        "arrivals": ("kedatangan-per-jam.png", _arrivals),
        "waits": ("waktu-tunggu-per-layanan.png", _waits),
        "counters": ("beban-loket.png", _counters),
        "queue": ("antrean-menunggu.png", _queue),
    }
    if report.bookings is not None and report.bookings.shown:
        files["bookings"] = ("reservasi-daring.png", _bookings)
    done = {}
    with plt.matplotlib.rc_context(STYLE):
        for key, (name, draw) in files.items():
            draw(plt, report).savefig(out / name, dpi=DPI)
            done[key] = name
    return done


def _legend_in(cfg) -> float:
    """Room on the right for a legend of the agencies' short names."""
    return 0.085 * max(len(a.short_name) for a in cfg.agencies) + 0.6


def _dark(color: str) -> bool:
    """Whether white text reads on this '#RRGGBB' (relative luminance below one half)."""
    r, g, b = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5


def _period(report: Report) -> str:
    if report.first == report.last:
        return report.first.strftime("%d-%m-%Y")
    return f"{report.first:%d-%m-%Y} s.d. {report.last:%d-%m-%Y} ({len(report.days)} hari)"


def _arrivals(plt, report: Report):
    cfg = report.config
    hours = sorted({h for per in report.arrivals.values() for h in per}) or [8]
    hours = list(range(hours[0], hours[-1] + 1))
    fig, ax = plt.subplots(4.8, ["0000"], legend_in=_legend_in(cfg))
    bottom = [0] * len(hours)
    for agency in cfg.agencies:
        counts = [sum(report.arrivals[s].get(h, 0) for s in agency.services) for h in hours]
        if not any(counts):
            continue
        ax.bar(range(len(hours)), counts, bottom=bottom, color=agency.color, label=agency.short_name, width=0.8)
        bottom = [b + c for b, c in zip(bottom, counts)]
    for i, total in enumerate(bottom):
        if total:
            ax.annotate(angka(total), (i, total), ha="center", va="bottom", fontsize=9, xytext=(0, 2),
                        textcoords="offset points")
    ax.set_xticks(range(len(hours)), [f"{h:02d}.00" for h in hours])
    ax.set_xlabel("Jam kedatangan (waktu setempat)")
    ax.set_ylabel("Tiket diambil")
    ax.set_title(f"Kedatangan per jam — {_period(report)}")
    ax.legend(title="Instansi", frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_ylim(0, max(bottom + [1]) * 1.12)
    return fig


def _waits(plt, report: Report):
    cfg = report.config
    rows = [(code, report.services[code]) for code in reversed(list(cfg.services))]
    labels = [f"{code} — {short_name(cfg.services[code].name)}" for code, _ in rows]
    fig, ax = plt.subplots(0.42 * len(rows) + 1.8, labels, bottom_in=1.05)
    for i, (code, f) in enumerate(rows):
        svc = cfg.services[code]
        color = cfg.agency(svc.agency).color
        if f.wait.n:
            ax.barh(i, f.wait.p90, color=color, alpha=0.30, height=0.7)
            ax.barh(i, f.wait.mean, color=color, height=0.7)
            ax.annotate(f"{angka(f.wait.mean, 1)} / {angka(f.wait.p90, 1)}", (f.wait.p90, i), va="center",
                        fontsize=8, xytext=(4, 0), textcoords="offset points")
        else:
            ax.annotate("belum ada yang dipanggil", (0, i), va="center", fontsize=8, color=GREY,
                        xytext=(4, 0), textcoords="offset points")
        ax.plot([svc.target_wait_min] * 2, [i - 0.42, i + 0.42], color="#C62828", linewidth=2)
    ax.set_yticks(range(len(rows)), labels)
    ax.set_xlabel("Waktu tunggu (menit): rata-rata / persentil ke-90")
    ax.set_title(f"Waktu tunggu per layanan — {_period(report)}")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=GREY, label="Rata-rata"), Patch(color=GREY, alpha=0.3, label="Persentil ke-90"),
                       Line2D([], [], color="#C62828", linewidth=2, label="Target waktu tunggu")],
              frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.55 / (0.42 * len(rows) + 0.3)), ncols=3)
    ax.set_xlim(0, max([f.wait.p90 or 0 for _, f in rows] + [cfg.services[c].target_wait_min for c, _ in rows]) * 1.25)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    return fig


def _counters(plt, report: Report):
    cfg = report.config
    rows = [(cid, report.counters[cid]) for cid in reversed(list(cfg.counters))]
    labels = [f"{cfg.counters[cid].name} ({', '.join(cfg.counters[cid].services)})" for cid, _ in rows]
    fig, ax = plt.subplots(0.42 * len(rows) + 1.4, labels)
    for i, (cid, c) in enumerate(rows):
        agency = cfg.counters[cid].agency
        color = cfg.agency(agency).color if agency else GREY
        if c.utilisation is None:
            ax.annotate("tidak buka", (0, i), va="center", fontsize=8, color=GREY, xytext=(4, 0),
                        textcoords="offset points")
            continue
        pct = 100 * c.utilisation
        ax.barh(i, pct, color=color, height=0.7)
        text = f"{angka(pct, 0)}% · {angka(c.served)} dilayani · sibuk {jam(c.busy_min)} dari {jam(c.open_min)}"
        inside = pct > 55  # a long bar holds its own label
        ax.annotate(text, (pct, i), va="center", ha="right" if inside else "left", fontsize=8,
                    color="white" if inside and _dark(color) else "black", xytext=(-4 if inside else 4, 0),
                    textcoords="offset points")
    ax.set_yticks(range(len(rows)), labels)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xticks(range(0, 101, 20), [f"{p}%" for p in range(0, 101, 20)])
    ax.set_xlabel("Utilisasi: waktu sibuk / waktu buka")
    ax.set_title(f"Beban loket — {_period(report)}")
    return fig


def _bookings(plt, report: Report):
    """Per service that takes bookings: online and walk-in tickets, the no-show rate and
    the median check-in against the slot."""
    cfg, b = report.config, report.bookings
    codes = [c for c in reversed(list(cfg.services)) if cfg.services[c].booking is not None
             or b.services[c].made or b.services[c].online]
    labels = [f"{c} — {short_name(cfg.services[c].name)}" for c in codes]
    fig, ax = plt.subplots(0.5 * len(codes) + 1.8, labels, bottom_in=1.05)
    for i, code in enumerate(codes):
        f = b.services[code]
        color = cfg.agency(cfg.services[code].agency).color
        ax.barh(i, f.online, color=color, height=0.7)
        ax.barh(i, f.walk_in, left=f.online, color=color, alpha=0.30, height=0.7)
        median = f.offsets.median
        sign = "" if median is None else "+" if median > 0 else "−" if median < 0 else ""
        when = "–" if median is None else f"{sign}{angka(abs(median), 0)} mnt"
        no_show = "–" if f.no_show_rate is None else f"{angka(100 * f.no_show_rate, 0)}%"
        text = f"{angka(f.online)} daring / {angka(f.walk_in)} langsung\ntidak datang {no_show} · lapor diri {when}"
        ax.annotate(text, (f.online + f.walk_in, i), va="center", fontsize=8, xytext=(4, 0), textcoords="offset points")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=GREY, label="Tiket daring (lapor diri reservasi)"),
                       Patch(color=GREY, alpha=0.3, label="Tiket langsung")],
              frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.55 / (0.5 * len(codes) + 0.3)), ncols=2)
    ax.set_yticks(range(len(codes)), labels)
    ax.set_xlim(0, max([b.services[c].online + b.services[c].walk_in for c in codes] + [1]) * 1.6)
    ax.set_ylim(-0.6, len(codes) - 0.4)
    ax.set_xlabel("Tiket diambil; lapor diri = median lapor diri terhadap jam slot")
    ax.set_title(f"Reservasi daring — {_period(report)}")
    return fig


def _queue(plt, report: Report):
    cfg = report.config
    fig, ax = plt.subplots(4.8, ["0000"], legend_in=_legend_in(cfg))
    slots = list(range(min(min(per) for per in report.queue.values() if per),
                       max(max(per) for per in report.queue.values() if per) + 2)) if any(report.queue.values()) else []
    shown = [a for a in cfg.agencies if any(report.queue[a.id].values())]
    if shown:
        xs = [s / 4 for s in slots]
        ax.stackplot(xs, *([report.queue[a.id].get(s, 0) for s in slots] for a in shown), step="post",
                     colors=[a.color for a in shown], labels=[a.short_name for a in shown], alpha=0.9)
        lo, hi = int(xs[0]), int(xs[-1]) + 1
        step = 1 if hi - lo <= 12 else 2
        ax.set_xticks(range(lo, hi + 1, step), [f"{h:02d}.00" for h in range(lo, hi + 1, step)])
        ax.set_xlim(xs[0], xs[-1])
        ax.legend(title="Instansi", frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1), reverse=True)
    else:
        ax.annotate("Tidak ada yang menunggu", (0.5, 0.5), xycoords="axes fraction", ha="center", color=GREY)
    ax.set_xlabel("Pukul (waktu setempat)")
    ax.set_ylabel("Tiket menunggu (tertinggi per 15 menit)")
    title = "Antrean menunggu per instansi" + (" (tertinggi dari semua hari)" if len(report.days) > 1 else "")
    ax.set_title(f"{title} — {_period(report)}")
    ax.set_ylim(bottom=0)
    return fig
