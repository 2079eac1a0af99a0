"""The filterproxy error tree.

Every error the package raises on purpose derives from :class:`FilterproxyError`;
foreign exceptions (OSError, yaml.YAMLError, pydantic.ValidationError, psycopg errors)
are translated at one boundary with ``raise ... from exc``::

    FilterproxyError
    ├── ConfigError              a configuration file or override is invalid (names file and field)
    ├── ListError                a blocklist source could not be used
    │   ├── ListFormatError      too many malformed lines (carries file, line, reason samples)
    │   ├── ListFetchError       a list download failed (HTTP status, network, verification)
    │   └── IndexFileError       a compiled index file is missing, truncated or of another version
    ├── PolicyError              a request the policy refuses on principle
    │   └── IllegalOverrideError an attempt to allow what an `illegal` feed lists
    ├── IncidentError            the incident store failed
    │   ├── StoreUnavailable     the store cannot be reached now (the spool takes over)
    │   └── IncidentNotFound     no incident with that id
    ├── LifecycleError           a status transition the incident lifecycle does not allow
    ├── GatewayError             gateway mode cannot be set up (nft failed, interfaces not configured)
    ├── DnsError                 the resolver cannot start (address in use, bad user to drop to)
    ├── UpstreamError            one query got no usable answer from an upstream (timeout, refused,
    │                            lost connection); a per-query failure, not a DnsError
    ├── ProxyError               the HTTP(S) proxy cannot start (address in use, bad mode)
    │   └── CaError              the school CA is missing, exists already, or cannot be read
    ├── ContentError             a phrase list is malformed (names file:line) or missing
    ├── IdentityError            identity sources cannot be used (RADIUS port in use, bad user file)
    │   └── DirectoryUnavailable the LDAP directory cannot be reached now (the address policy applies)
    ├── ModelFileError           a hostname model file is missing, truncated or not a model
    ├── SelftestError            the self-test cannot run (unknown group, no source address, nothing to probe)
    ├── AddressInUse             `serve` cannot bind: another process holds a configured address
    ├── ReviewError              the annual review cannot be built
    │   └── MetricsHistoryError  the Prometheus HTTP API gave no usable answer (the report notes it)
    └── ConsoleError             the web console cannot do what was asked (unknown user, bad input)
        └── UnblockRequestError  an unblock request cannot be made or decided
"""

from __future__ import annotations


class FilterproxyError(Exception):
    """Base of every error filterproxy raises on purpose."""


class ConfigError(FilterproxyError):
    """A configuration file or override is invalid."""


class ListError(FilterproxyError):
    """A blocklist source could not be used."""


class ListFormatError(ListError):
    """A list source has more malformed lines than its tolerated share."""


class ListFetchError(ListError):
    """Downloading a list source failed."""


class IndexFileError(ListError):
    """A compiled index file cannot be loaded."""


class PolicyError(FilterproxyError):
    """A request the policy refuses on principle."""


class IllegalOverrideError(PolicyError):
    """An attempt to allow a name or URL that an `illegal` feed lists."""


class IncidentError(FilterproxyError):
    """The incident store failed."""


class StoreUnavailable(IncidentError):
    """The incident store cannot be reached now."""


class IncidentNotFound(IncidentError):
    """No incident has the given id."""


class LifecycleError(FilterproxyError):
    """An incident status transition that the lifecycle does not allow."""


class AddressInUse(FilterproxyError):
    """A listen address of the configuration is held by another process."""


class GatewayError(FilterproxyError):
    """Gateway mode cannot be set up: nft refused the ruleset, or the configuration is incomplete."""


class ProxyError(FilterproxyError):
    """The HTTP(S) proxy cannot start."""


class CaError(ProxyError):
    """The school CA is missing, exists already, or cannot be read."""


class DnsError(FilterproxyError):
    """The DNS resolver cannot start: address in use, or no such user to drop privileges to."""


class UpstreamError(FilterproxyError):
    """An upstream resolver gave no usable answer to one query (timeout, refused, connection lost).

    A per-query failure the resolver answers with SERVFAIL, not :class:`DnsError` (which means the
    resolver cannot start), so ``except DnsError`` does not catch it.
    """


class ContentError(FilterproxyError):
    """A content phrase list cannot be used (each bad line is named as file:line)."""


class ModelFileError(FilterproxyError):
    """A hostname model file is missing, truncated or not a model."""


class SelftestError(FilterproxyError):
    """The self-test cannot run: unknown group, no usable source address, nothing to probe."""


class ReviewError(FilterproxyError):
    """The annual review cannot be built."""


class MetricsHistoryError(ReviewError):
    """The Prometheus HTTP API gave no usable answer."""


class IdentityError(FilterproxyError):
    """An identity source cannot be used (RADIUS listener, user file, directory)."""


class DirectoryUnavailable(IdentityError):
    """The LDAP directory cannot be reached or answered in time; the address-based policy applies."""


class ConsoleError(FilterproxyError):
    """The web console cannot do what was asked (unknown user, bad request, unreadable people file)."""


class UnblockRequestError(ConsoleError):
    """An unblock request cannot be made or decided (unknown reference, decided already, illegal site)."""
