"""The application pages offer only what the user may do (QA backlog 8): 同意并签字 and 退回
only to a head of the applying unit (or of its successor), and the list of forms to the
operators who approve or execute them, with its tab."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gongwen.seals import services

pytestmark = pytest.mark.django_db


def _filled(keeper):
    return services.fill_application(actor=keeper, kind="make", reason="制作",
                                     keeper_id=keeper.pk)


def _action(app, action):
    return reverse("web:seal_application_action", args=[app.pk, action])


def test_a_head_of_another_unit_is_not_offered_to_sign(client, pki, keeper_b, head_b,
                                                       head_a):
    """GIVEN a county's filled form WHEN the city office's head (who sees every form, to
    approve it) opens it THEN neither 同意并签字 nor 退回 is offered; the county's head gets
    both."""
    app = _filled(keeper_b)
    client.force_login(head_a)
    page = client.get(reverse("web:seal_application", args=[app.pk])).content.decode()
    assert _action(app, "sign") not in page and _action(app, "reject") not in page
    client.force_login(head_b)
    page = client.get(reverse("web:seal_application", args=[app.pk])).content.decode()
    assert _action(app, "sign") in page and _action(app, "reject") in page


@pytest.mark.parametrize("who", ["operator", "province_operator"])
def test_operators_list_the_forms_they_handle(client, request, who, pki, keeper_b, head_b,
                                              head_a):
    app = _filled(keeper_b)
    services.sign_application(actor=head_b, application_id=app.pk)
    services.approve_application(actor=head_a, application_id=app.pk)
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("web:seal_applications"))
    assert response.status_code == 200
    assert reverse("web:seal_application", args=[app.pk]) in response.content.decode()
    register = client.get(reverse("web:seals")).content.decode()
    assert f'href="{reverse("web:seal_applications")}"' in register
