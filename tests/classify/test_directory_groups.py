"""Group from identity: a person's directory groups beat their network; the most specific wins."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pytest

from filterproxy.classify.policy import Policy, directory_key
from filterproxy.classify.settings import PolicySettings
from filterproxy.model import Query

SETTINGS = PolicySettings.model_validate({
    "default_group": "pupils",
    "groups": {
        "pupils": {"networks": ["10.0.0.0/8"], "directory_groups": ["cn=pupils,ou=groups,dc=school,dc=uk", "pupil"]},
        "staff": {"networks": ["10.20.0.0/16"], "directory_groups": ["cn=staff,ou=groups,dc=school,dc=uk", "staff"],
                  "categories": {"gambling": "allow"}},
        "sixth": {"directory_groups": ["cn=sixth,cn=pupils,ou=groups,dc=school,dc=uk"]},
        "guests": {"networks": ["10.99.0.0/16"]},
    },
})
PUPIL_NET = ipaddress.ip_address("10.1.2.3")
STAFF_NET = ipaddress.ip_address("10.20.0.5")


@pytest.mark.parametrize(
    ("client", "directory", "group"),
    [
        (PUPIL_NET, (), "pupils"),  # nobody known: the network decides
        (STAFF_NET, (), "staff"),
        (PUPIL_NET, ("CN=Staff, OU=Groups, DC=school, DC=uk",), "staff"),  # DN spelling varies in case and spaces
        (STAFF_NET, ("cn=pupils,ou=groups,dc=school,dc=uk",), "pupils"),  # the person beats the network
        (STAFF_NET, ("Pupil",), "pupils"),  # a RADIUS Class / Filter-Id value
        (PUPIL_NET, ("cn=unrelated,dc=school,dc=uk",), "pupils"),  # unmapped directory groups: the network
        # most specific (most DN parts) wins among several
        (PUPIL_NET, ("cn=pupils,ou=groups,dc=school,dc=uk", "cn=sixth,cn=pupils,ou=groups,dc=school,dc=uk"), "sixth"),
        # equal specificity: the group named first in the configuration
        (STAFF_NET, ("cn=staff,ou=groups,dc=school,dc=uk", "cn=pupils,ou=groups,dc=school,dc=uk"), "pupils"),
        (ipaddress.ip_address("10.99.1.1"), ("staff",), "staff"),
    ],
)
def test_group_for(client: ipaddress.IPv4Address, directory: tuple[str, ...], group: str) -> None:
    policy = Policy(SETTINGS)
    assert policy.group_for(client, directory) == group
    assert policy.group_for(client, directory) == group  # cached answer is the same


def test_directory_key_normalises_dn_spelling() -> None:
    assert directory_key(" CN = Staff ,OU=Groups,  dc=School") == "cn=staff,ou=groups,dc=school"


def test_classifier_uses_the_person_group() -> None:
    from filterproxy.lists.testing import make_classifier

    classifier = make_classifier({"gambling": ["bet.example"]}, policy=SETTINGS)
    at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert classifier.classify(Query(PUPIL_NET, "bet.example", at)).blocked
    staff = classifier.classify(Query(PUPIL_NET, "bet.example", at, user="t.jones", directory=("staff",)))
    assert (staff.group, staff.blocked) == ("staff", False)
