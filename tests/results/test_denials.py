"""One denial rule across the results pages (docs/security.md, "Denials"): a page or action the
user's role may not use at all is 403 (the URL is the same for everyone, so it tells nothing); a
record outside the user's scope, or one that does not exist, is 404 whatever the role — guessing
ids tells nothing. Both in the user's language, never a 500."""

import uuid

import pytest

# Pages for a role, not for a record: staff use none of them.
ROLE_PAGES = ["/results/", "/results/warnings/", "/results/warnings/rules", "/results/training/",
              "/results/training/needs", "/results/points/rules/new", "/results/supervisors/",
              "/results/evaluation/", "/results/policy/", "/results/policy/new"]

# Records by id: an id nobody has is 404 for every role, staff and management alike.
GUESSED = ["/results/training/{id}", "/results/training/{id}/edit", "/results/training/people/{id}",
           "/results/training/notes/{id}/edit", "/results/points/entries/987654", "/results/supervisors/{id}",
           "/results/supervisors/{id}/profile", "/results/supervisors/visits/{id}/rating",
           "/results/evaluation/visits/{id}", "/results/evaluation/visits/{id}/edit",
           "/results/evaluation/plans/{id}", "/results/evaluation/plans/{id}/edit",
           "/results/policy/{id}", "/results/policy/{id}/edit"]


@pytest.mark.parametrize("url", ROLE_PAGES)
def test_a_page_for_another_role_is_403(client, auth, world, url):
    auth.login("staff1")
    r = client.get(url, headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 403, url


@pytest.mark.parametrize("role", ["manager", "head1", "sup1", "staff1"])
def test_a_guessed_record_is_404_for_every_role(client, auth, world, role):
    auth.login(role)
    for template in GUESSED:
        url = template.format(id=uuid.uuid4())
        assert client.get(url).status_code == 404, (role, url)


def test_another_departments_visit_is_404_not_403(client, auth, world):
    """A department head rates and evaluates their own department's visits; the other's look missing."""
    auth.login("head1")
    other = world["visits"][1].id  # department 2's
    for url in (f"/results/supervisors/visits/{other}/rating", f"/results/evaluation/visits/{other}",
                f"/results/evaluation/visits/{other}/edit"):
        assert client.get(url).status_code == 404, url
