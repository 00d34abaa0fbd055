"""Chinese labels of the coded values written into the package description.

The code (from case.json or Dangan) is what machines read (attribute ``代码``); the label
is what a person reads in the XML. The labels are the one vocabulary
(``dangan.packages.vocabulary``); this module only names them as the description does.
"""

from __future__ import annotations

from ..vocabulary import (  # noqa: F401  (re-exported for the description)
    AGENT_TYPES,
    CHANNELS,
    CLASSIFICATIONS,
    ID_TYPES,
    NATURES,
    ORIGINS,
    OUTCOMES,
    PACKAGE_TYPES,
    PARTY_KINDS,
    PARTY_ROLES,
    RESULTS,
    RETENTIONS,
    STAGES,
    STEPS,
)
from ..vocabulary import DOCUMENT_KINDS as KINDS  # noqa: F401
from ..vocabulary import INSURANCES as INSURANCE  # noqa: F401
