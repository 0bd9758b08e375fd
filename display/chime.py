"""The "ding-dong" played before every call, made here rather than downloaded.

Two struck-bell tones a major third apart, E5 then C5, each with a quick attack, a
soft second and third harmonic and an exponential decay, like the chimes of an
airport or an office hall. Standard library only; the sound is made in the format of
the speech it comes before, so the two join without resampling.

    chime(22050).write("chime.wav")      # about 1.6 s
"""

from __future__ import annotations

import array
import functools
import math
import sys

from .audio import Audio

__all__ = ["DING_HZ", "DONG_HZ", "chime"]

DING_HZ = 659.25  # E5
DONG_HZ = 523.25  # C5
DONG_AT = 0.5  # seconds after the ding
RING = 0.95  # seconds each tone sounds
PEAK = 0.45  # of full scale, leaving headroom where the two tones overlap
HARMONICS = ((1, 1.0), (2, 0.25), (3, 0.08))


def _tone(rate: int, freq: float, seconds: float) -> list[float]:
    samples = []
    attack, release = 0.006 * rate, 0.04 * rate
    total = int(seconds * rate)
    for i in range(total):
        t = i / rate
        # Ramps at both ends: a sample that jumps from or to silence is heard as a click.
        envelope = min(1.0, i / attack, (total - i) / release) * math.exp(-4.0 * t)
        wave_ = sum(amp * math.sin(2 * math.pi * freq * n * t) for n, amp in HARMONICS)
        samples.append(envelope * wave_)
    return samples


@functools.lru_cache(maxsize=8)
def chime(rate: int = 22050, channels: int = 1, volume: float = 1.0) -> Audio:
    """The chime as 16-bit PCM at *rate* Hz with *channels*; *volume* 0.0-1.0."""
    ding = _tone(rate, DING_HZ, RING)
    dong = _tone(rate, DONG_HZ, RING)
    start = int(DONG_AT * rate)
    mix = ding + [0.0] * (start + len(dong) - len(ding))
    for i, s in enumerate(dong):
        mix[start + i] += s
    norm = max(abs(s) for s in mix)
    # A little silence after the bell so the first word does not run into its tail.
    mix += [0.0] * int(0.2 * rate)
    scale = PEAK * volume * 32767 / norm
    samples = array.array("h", (int(round(s * scale)) for s in mix for _ in range(channels)))
    if sys.byteorder == "big":
        samples.byteswap()
    return Audio(rate, channels, 2, samples.tobytes())
