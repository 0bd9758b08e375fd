"""The registry of wings: how kiosk/, display/, hardware/, mall/ (and later web/) plug in.

The core never imports a wing. Each wing names one `Wing` object in the setuptools
entry-point group ``antrian.wings`` (setup.cfg):

    [options.entry_points]
    antrian.wings =
        kiosk = kiosk.wing:WING

and that object says what the wing brings:

- `roles`: the device roles it provides, each with the schema of its options in the
  site file (a `Section` of the field kit, antrian/site/schema.py: checked by
  ``check-config`` on any Pi and written into docs/site-file.md, so the module that
  holds it imports no Kivy, gpiozero, escpos or pyttsx3) and the topics its broker user
  may use (the ACL that ``antrian broker-files`` writes);
- `commands`: a function that adds its subcommands to the ``antrian`` command;
- `services`: named things other parts start by name, as ``"module:attribute"``
  strings loaded only when asked for (``antrian up --whole`` asks for ``whole``).

A wing whose module does not load (its package missing, a broken install) is kept
aside with the reason, so ``check-config`` and the command line can say so in one
line instead of failing. See docs/architecture.md.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from importlib import metadata
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from antrian.errors import WingError

from antrian.site.schema import Section

if TYPE_CHECKING:  # only for the annotations: the site model imports nothing of this
    import argparse

    from antrian.site.model import Config

GROUP = "antrian.wings"
log = logging.getLogger(__name__)

# acl(config, user) -> [(access, topic filter)]: read, write or readwrite
AclRule = Callable[["Config", str], list[tuple[str, str]]]


@dataclasses.dataclass(frozen=True)
class Role:
    """A kind of device in the site file (``role: kiosk``).

    `schema` describes the options a device of this role may have besides id, role and
    name; its rules find the site's `Config` as ``context["config"]``. None: any options
    pass unchecked."""

    name: str
    summary: str
    schema: Section | None = None
    acl: AclRule | None = None


@dataclasses.dataclass(frozen=True)
class Wing:
    """What one wing brings to the house."""

    name: str
    summary: str
    roles: tuple[Role, ...] = ()
    commands: Callable[["argparse._SubParsersAction"], None] | None = None
    services: Mapping[str, str] = dataclasses.field(default_factory=dict)


class Registry:
    """The wings found in an entry-point group, loaded once.

    `builtin` wings come first (the core's own roles); then the entry points, in the
    order the distribution lists them.
    """

    def __init__(self, entry_points: Iterable[metadata.EntryPoint], builtin: Iterable[Wing] = ()):
        self.wings: dict[str, Wing] = {}
        self.broken: dict[str, str] = {}  # wing name -> why it did not load
        for wing in builtin:
            self.wings[wing.name] = wing
        for ep in entry_points:
            try:
                wing = ep.load()
            except Exception as exc:  # any failure of a wing's import must not stop the core
                self.broken[ep.name] = f"{type(exc).__name__}: {exc}"
                log.debug("wing %s does not load: %s", ep.name, exc)
                continue
            if not isinstance(wing, Wing):
                self.broken[ep.name] = f"{ep.value} is not an antrian.wings.Wing"
                continue
            self.wings[wing.name] = wing

    @property
    def roles(self) -> dict[str, Role]:
        """Every known device role, by name, in registry order."""
        return {role.name: role for wing in self.wings.values() for role in wing.roles}

    def role(self, name: str) -> Role | None:
        return self.roles.get(name)

    def missing(self) -> str:
        """A clause naming the wings that did not load, or '' when all did."""
        if not self.broken:
            return ""
        return "; not loaded here: " + ", ".join(f"wing {n} ({why})" for n, why in self.broken.items())

    def service(self, name: str) -> Any:
        """The object a wing registered under `name` (imported now), or WingError."""
        for wing in self.wings.values():
            target = wing.services.get(name)
            if target is not None:
                module, _, attr = target.partition(":")
                try:
                    return getattr(importlib.import_module(module), attr)
                except (ImportError, AttributeError) as exc:
                    raise WingError(f"{name} of the {wing.name} wing does not load: {exc}") from None
        raise WingError(f"no installed wing provides {name!r}{self.missing()}")


def _core_acl(config: "Config", user: str) -> list[tuple[str, str]]:
    from antrian import protocol

    return [("readwrite", protocol.site_filter(config.site.id))]


CORE = Wing("core", "the queue's own service",
            roles=(Role("dispatcher", "the service that owns the queue (antrian dispatcher)",
                        schema=Section({}, "the dispatcher has no options of its own", what="a dispatcher"),
                        acl=_core_acl),))

_default: Registry | None = None


def registry() -> Registry:
    """The registry of this installation: the core, then the ``antrian.wings`` entry points."""
    global _default
    if _default is None:
        _default = Registry(metadata.entry_points(group=GROUP), builtin=(CORE,))
    return _default
