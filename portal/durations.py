"""A length of time in the words the pages show: "45 s", "3 min", "2 h 5 min", "1 d 4 h"."""

from datetime import timedelta


def duration_words(delta: timedelta) -> str:
    """Whole units, cut rather than rounded (an hour and 59 minutes is "1 h 59 min"), at most
    two of them; under a minute in seconds."""
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{max(0, round(seconds))} s"
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
