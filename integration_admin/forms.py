"""Forms: they validate what people type and turn it into the services' arguments."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from sync_engine.object_settings import CUSTOM_PREFIX
from sync_engine.selectors import hubspot_list_names
from sync_engine.sync.rules import SyncRule

from .labels import RULE_LABELS
from .templatetags.humanize_numbers import thousands

RULE_CHOICES = list(RULE_LABELS.items())

MAX_ALLOCATION = 2_147_483_647  # the column's ceiling


class AllocationForm(forms.Form):
    """ "Allocated to HubSpot": positive, and no more than "Limited by Salesforce"."""

    allocation = forms.IntegerField(
        label=_("Allocated to HubSpot"),
        min_value=1,
        error_messages={
            "required": _("Enter the number of API calls to allocate to HubSpot."),
            "invalid": _("Enter a whole number of API calls."),
            "min_value": _("The allocation must be at least 1 call."),
        },
    )

    def __init__(self, *args, limit: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit

    def clean_allocation(self) -> int:
        value = self.cleaned_data["allocation"]
        # Salesforce's limit is the one to name, however far past it (and the column's).
        if self.limit is not None and value > min(self.limit, MAX_ALLOCATION):
            raise forms.ValidationError(
                _(
                    "The allocation can't be more than Salesforce's limit of %(limit)s calls "
                    "per 24 hours."
                ),
                params={"limit": thousands(self.limit)},
                code="above_limit",
            )
        if value > MAX_ALLOCATION:
            raise forms.ValidationError(
                _("The allocation can't be more than %(limit)s calls per 24 hours."),
                params={"limit": thousands(MAX_ALLOCATION)},
                code="above_limit",
            )
        return value


# --- object settings -----------------------------------------------------------------------
class ObjectSettingsForm(forms.Form):
    """An object tab's settings card. Each field also carries the value the page was drawn
    with (``show_hidden_initial``: a hidden ``initial-<name>`` input, see
    ``hidden_initials``), and a save sets only the settings changed on that page: two browser
    tabs, or two admins, never put back each other's changes to the other settings."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.show_hidden_initial = True

    def hidden_initials(self) -> SafeString:
        """Every field's hidden ``initial-<name>`` input: the value the page shows. A form
        drawn again with its errors keeps the posted one (the page the admin started from);
        a post that had none shows the saved value (``initial``)."""
        inputs = []
        for field in self:
            if self.is_bound and field.html_initial_name not in self.data:
                hidden = field.field.hidden_widget()
                inputs.append(
                    hidden.render(
                        field.html_initial_name,
                        field.initial,
                        attrs={"id": field.html_initial_id},
                    )
                )
            else:
                inputs.append(field.as_hidden(only_initial=True))
        return format_html_join("", "{}", ((html,) for html in inputs))

    def changed_names(self) -> list[str]:
        """The fields this save sets: those changed from the value their page showed. A post
        that doesn't say what its page showed for a field (a script posting the whole form)
        sets that field as posted."""
        return [
            field.name
            for field in self
            if field.name in self.changed_data or field.html_initial_name not in self.data
        ]

    def changes(self) -> tuple[dict, bool | None]:
        """``(settings changes, enabled)`` for ``object_settings_update``: only what changed
        on the page; ``enabled`` is None when the switch wasn't touched."""
        data = {name: self.cleaned_data[name] for name in self.changed_names()}
        return data, data.pop("enabled", None)


# --- contacts ------------------------------------------------------------------------------
SALESFORCE_CREATE_UPDATE = [
    ("create_or_update", _("Create or update the contact")),
    ("nothing", _("Do nothing")),
]
HUBSPOT_CREATES = [
    ("contact", _("Create or update the contact")),
    ("lead", _("Create or update the lead")),
]
SALESFORCE_DELETE = [("delete", _("Delete the contact")), ("nothing", _("Do nothing"))]
LIFECYCLE = [
    ("update", _("Update the contact's lifecycle stage in HubSpot")),
    ("nothing", _("Do nothing")),
]
SALESFORCE_STATE_COUNTRY = [
    ("disabled", _("The picklist is disabled in Salesforce.")),
    ("enabled", _("The picklist is enabled in Salesforce.")),
    ("customised", _("The picklist is enabled and customized in Salesforce.")),
]
HUBSPOT_STATE_COUNTRY = [
    ("convert", _("Match default Salesforce state/country values when syncing.")),
    ("as_is", _("Sync the HubSpot state/country values to Salesforce as they are.")),
]


class InclusionListSettingsForm(ObjectSettingsForm):
    """A settings card with an inclusion-list picker (Contacts, Companies), drawn by htmx
    (``partials/inclusion_list_picker.html``), not from its field."""

    inclusion_list_id = forms.CharField(required=False, max_length=40)

    def non_field_errors(self):
        """The form's own errors, and the inclusion list's: its picker is not drawn from this
        field, so a list the service refused (HubSpot has no such list, or can't be asked)
        is said at the top instead."""
        errors = super().non_field_errors()
        return errors + list(self.errors.get("inclusion_list_id", []))

    def changes(self) -> tuple[dict, bool | None]:
        """``(settings changes, enabled)``, only what changed on the page. The list picker is
        filled in by htmx after the page loads: when it never arrived, the list is unchanged
        (its hidden initial value is in the card itself)."""
        data, enabled = super().changes()
        if "inclusion_list_id" not in self.data:
            data.pop("inclusion_list_id", None)
        elif "inclusion_list_id" in data:
            data["inclusion_list_id"] = data["inclusion_list_id"] or None
        return data, enabled


class ContactSettingsForm(InclusionListSettingsForm):
    """Every ``ContactSettings`` field, as the Contacts tab lays them out."""

    change_labels = {
        "salesforce_create_update": _("When a Salesforce lead or contact is created or updated"),
        "hubspot_creates": _("When a HubSpot contact is created or updated"),
        "salesforce_delete": _("When a Salesforce contact or lead is deleted"),
        "lifecycle_transitions": _("When a Salesforce contact's opportunity stage is updated"),
        "lifecycle_company_fanout": _("Also update the other contacts of the same company"),
        "inclusion_list_id": _("Inclusion list"),
        "salesforce_state_country": _("Salesforce state and country picklists"),
        "hubspot_state_country": _("HubSpot state and country values"),
    }

    enabled = forms.BooleanField(label=_("Sync contacts"), required=False)
    salesforce_create_update = forms.ChoiceField(
        choices=SALESFORCE_CREATE_UPDATE, widget=forms.RadioSelect
    )
    hubspot_creates = forms.ChoiceField(choices=HUBSPOT_CREATES, widget=forms.RadioSelect)
    salesforce_delete = forms.ChoiceField(choices=SALESFORCE_DELETE, widget=forms.RadioSelect)
    lifecycle_transitions = forms.ChoiceField(choices=LIFECYCLE, widget=forms.RadioSelect)
    lifecycle_company_fanout = forms.BooleanField(required=False)
    salesforce_state_country = forms.ChoiceField(
        choices=SALESFORCE_STATE_COUNTRY, widget=forms.RadioSelect
    )
    hubspot_state_country = forms.ChoiceField(
        choices=HUBSPOT_STATE_COUNTRY, widget=forms.RadioSelect
    )

    @classmethod
    def initial_from(cls, *, settings, enabled: bool) -> dict:
        return {
            "enabled": enabled,
            "salesforce_create_update": settings.salesforce_create_update,
            "hubspot_creates": settings.hubspot_creates,
            "salesforce_delete": settings.salesforce_delete,
            "lifecycle_transitions": "update" if settings.lifecycle_transitions else "nothing",
            "lifecycle_company_fanout": settings.lifecycle_company_fanout,
            "inclusion_list_id": settings.inclusion_list_id or "",
            "salesforce_state_country": settings.salesforce_state_country,
            "hubspot_state_country": settings.hubspot_state_country,
        }

    def changes(self) -> tuple[dict, bool | None]:
        data, enabled = super().changes()
        if "lifecycle_transitions" in data:
            data["lifecycle_transitions"] = data["lifecycle_transitions"] == "update"
        return data, enabled


# --- companies -----------------------------------------------------------------------------
COMPANY_SALESFORCE_DELETE = [
    ("delete", _("Delete the company")),
    ("nothing", _("Do nothing")),
]


class CompanySettingsForm(InclusionListSettingsForm):
    """Every ``CompanySettings`` field, as the Companies tab lays them out."""

    enabled = forms.BooleanField(label=_("Sync companies"), required=False)
    salesforce_creates = forms.BooleanField(
        label=_("A new Salesforce account creates a HubSpot company"), required=False
    )
    hubspot_creates = forms.BooleanField(
        label=_(
            "A HubSpot company creates a Salesforce account when one of its contacts syncs "
            "as a Salesforce contact"
        ),
        required=False,
    )
    salesforce_delete = forms.ChoiceField(
        choices=COMPANY_SALESFORCE_DELETE, widget=forms.RadioSelect
    )

    change_labels = {
        "hubspot_creates": _("A HubSpot company creates a Salesforce account"),
        "salesforce_delete": _("When a Salesforce account is deleted"),
        "inclusion_list_id": _("Company inclusion list"),
    }

    @classmethod
    def initial_from(cls, *, settings, enabled: bool) -> dict:
        return {
            "enabled": enabled,
            "salesforce_creates": settings.salesforce_creates,
            "hubspot_creates": settings.hubspot_creates,
            "salesforce_delete": settings.salesforce_delete,
            "inclusion_list_id": settings.inclusion_list_id or "",
        }


SETTINGS_FORMS = {"contacts": ContactSettingsForm, "companies": CompanySettingsForm}


# --- deals
DEAL_SALESFORCE_DELETE = [("delete", _("Delete the deal")), ("nothing", _("Do nothing"))]


class DealSettingsForm(ObjectSettingsForm):
    """Every ``DealSettings`` field, as the Deals tab lays them out."""

    enabled = forms.BooleanField(label=_("Sync deals"), required=False)
    salesforce_delete = forms.ChoiceField(choices=DEAL_SALESFORCE_DELETE, widget=forms.RadioSelect)

    change_labels = {
        "salesforce_delete": _("When a Salesforce opportunity is deleted"),
    }

    @classmethod
    def initial_from(cls, *, settings, enabled: bool) -> dict:
        return {"enabled": enabled, "salesforce_delete": settings.salesforce_delete}


SETTINGS_FORMS["deals"] = DealSettingsForm


# --- activities
class ActivitySettingsForm(ObjectSettingsForm):
    """Every ``ActivitySettings`` toggle, as the Activities tab lays them out (HubSpot's
    words). When each one was turned on is stamped by the service, never posted."""

    enabled = forms.BooleanField(label=_("Sync activities"), required=False)
    hubspot_calls = forms.BooleanField(label=_("Calls made"), required=False)
    hubspot_emails = forms.BooleanField(label=_("Sales emails sent"), required=False)
    hubspot_meetings = forms.BooleanField(label=_("Meetings booked"), required=False)
    hubspot_notes = forms.BooleanField(label=_("Notes created"), required=False)
    hubspot_tasks = forms.BooleanField(label=_("Tasks created"), required=False)
    salesforce_tasks = forms.BooleanField(label=_("Salesforce tasks"), required=False)
    salesforce_calls = forms.BooleanField(
        label=_("Salesforce calls (tasks logged as calls)"), required=False
    )
    salesforce_emails = forms.BooleanField(
        label=_("Salesforce emails (tasks logged as emails)"), required=False
    )
    salesforce_meetings = forms.BooleanField(
        label=_("Salesforce meetings (events)"), required=False
    )

    HUBSPOT_TOGGLES = ("hubspot_calls", "hubspot_emails", "hubspot_meetings", "hubspot_notes",
                       "hubspot_tasks")  # fmt: skip
    SALESFORCE_TOGGLES = ("salesforce_tasks", "salesforce_calls", "salesforce_emails",
                          "salesforce_meetings")  # fmt: skip

    change_labels = {
        "hubspot_calls": _("HubSpot calls to Salesforce"),
        "hubspot_emails": _("HubSpot emails to Salesforce"),
        "hubspot_meetings": _("HubSpot meetings to Salesforce"),
        "hubspot_notes": _("HubSpot notes to Salesforce"),
        "hubspot_tasks": _("HubSpot tasks to Salesforce"),
        "salesforce_tasks": _("Salesforce tasks to HubSpot"),
        "salesforce_calls": _("Salesforce calls to HubSpot"),
        "salesforce_emails": _("Salesforce emails to HubSpot"),
        "salesforce_meetings": _("Salesforce meetings to HubSpot"),
    }

    @classmethod
    def initial_from(cls, *, settings, enabled: bool) -> dict:
        names = cls.HUBSPOT_TOGGLES + cls.SALESFORCE_TOGGLES
        return {"enabled": enabled, **{name: getattr(settings, name) for name in names}}

    def hubspot_fields(self) -> list:
        return [self[name] for name in self.HUBSPOT_TOGGLES]

    def salesforce_fields(self) -> list:
        return [self[name] for name in self.SALESFORCE_TOGGLES]


SETTINGS_FORMS["activities"] = ActivitySettingsForm


# --- mappings ------------------------------------------------------------------------------
class MappingForm(forms.Form):
    hubspot_property = forms.CharField(
        label=_("HubSpot property"),
        max_length=120,
        error_messages={"required": _("Pick a HubSpot property.")},
    )
    salesforce_field = forms.CharField(
        label=_("Salesforce field"),
        max_length=120,
        error_messages={"required": _("Pick a Salesforce field.")},
    )
    rule = forms.ChoiceField(
        label=_("Sync rule"),
        choices=RULE_CHOICES,
        initial=SyncRule.PREFER_SALESFORCE_UNLESS_BLANK,
    )

    def clean_hubspot_property(self) -> str:
        # The picker shows "Label (name)"; accept either the name or that text.
        return _picked_name(self.cleaned_data["hubspot_property"])

    def clean_salesforce_field(self) -> str:
        return _picked_name(self.cleaned_data["salesforce_field"])

    def picked(self) -> tuple[str, str, str]:
        """``(property, field, rule)`` as picked so far, valid or not: what decides the
        rules the form offers."""
        if not self.is_bound:
            return "", "", self.fields["rule"].initial
        return (
            _picked_name(self.data.get("hubspot_property") or ""),
            _picked_name(self.data.get("salesforce_field") or ""),
            self.data.get("rule") or self.fields["rule"].initial,
        )


def _picked_name(value: str) -> str:
    value = value.strip()
    if value.endswith(")") and "(" in value:
        return value[value.rindex("(") + 1 : -1].strip()
    return value


class RuleForm(forms.Form):
    rule = forms.ChoiceField(choices=RULE_CHOICES)


class TicketSettingsForm(ObjectSettingsForm):
    """The Tickets tab's settings once its wizard is done."""

    enabled = forms.BooleanField(required=False, label=_("Sync tickets"))
    salesforce_delete = forms.ChoiceField(
        choices=[
            ("nothing", _("Do nothing")),
            ("delete", _("Delete the ticket")),
        ],
        widget=forms.RadioSelect,
        label=_("When a Salesforce case is deleted"),
    )
    sync_account_association = forms.BooleanField(
        required=False, label=_("Associate tickets with the case's account")
    )
    sync_contact_association = forms.BooleanField(
        required=False, label=_("Associate tickets with the case's contact")
    )
    change_labels = {
        "pipelines": _("Pipelines"),
        "setup_complete": _("Setup complete"),
    }


# --- custom objects
CUSTOM_UPDATE_CHOICES = [
    ("create_or_update", _("Create or update the record")),
    ("nothing", _("Do nothing")),
]
CUSTOM_DELETE_CHOICES = [
    ("delete", _("Delete the record")),
    ("nothing", _("Do nothing")),
]
CUSTOM_WINNER_CHOICES = [
    ("salesforce", _("Salesforce wins conflicts")),
    ("hubspot", _("HubSpot wins conflicts")),
]


class CustomObjectRulesForm(forms.Form):
    """The Custom objects wizard's sync rules (step 2; the template asks the questions)."""

    salesforce_to_hubspot = forms.ChoiceField(
        choices=CUSTOM_UPDATE_CHOICES, widget=forms.RadioSelect
    )
    salesforce_delete = forms.ChoiceField(choices=CUSTOM_DELETE_CHOICES, widget=forms.RadioSelect)
    hubspot_to_salesforce = forms.ChoiceField(
        choices=CUSTOM_UPDATE_CHOICES, widget=forms.RadioSelect
    )
    hubspot_delete = forms.ChoiceField(choices=CUSTOM_DELETE_CHOICES, widget=forms.RadioSelect)
    conflict_winner = forms.ChoiceField(choices=CUSTOM_WINNER_CHOICES, widget=forms.RadioSelect)

    # The wizard's and the tab's words for each setting (a trailing colon is dropped).
    change_labels = {
        "enabled": _("Sync"),
        "salesforce_to_hubspot": _("When a Salesforce record is created or updated, in HubSpot:"),
        "salesforce_delete": _("When a Salesforce record is deleted, in HubSpot:"),
        "hubspot_to_salesforce": _("When a HubSpot record is created or updated, in Salesforce:"),
        "hubspot_delete": _("When a HubSpot record is deleted, in Salesforce:"),
        "conflict_winner": _("Conflict winner"),
        "associations": _("Associations"),
        "salesforce_object": _("Salesforce object"),
        "hubspot_object": _("HubSpot custom object"),
    }


def _settings_form(object_name: str):
    if object_name.startswith(CUSTOM_PREFIX):
        return CustomObjectRulesForm
    return SETTINGS_FORMS.get(object_name) or (
        TicketSettingsForm if object_name == "tickets" else None
    )


def setting_label(object_name: str, name: str) -> str:
    """A setting's name in people's words (the audit log's "what changed")."""
    form = _settings_form(object_name)
    if form is None:
        return name
    field = form.base_fields.get(name)
    # Where the form's label fits the audit log too, it is the one (``change_labels`` says
    # otherwise, and names settings the form doesn't show).
    label = form.change_labels.get(name) or (field.label if field and field.label else name)
    return str(label).rstrip(":")


def inclusion_list_label(integration, list_id) -> str:
    """A chosen inclusion list by the name noted when it was chosen (1 query, no HubSpot
    call): what the Contacts tab and Sync health call it."""
    names = hubspot_list_names(integration=integration, list_ids=[list_id])
    return setting_value("contacts", "inclusion_list_id", list_id, names)


def setting_value(object_name: str, name: str, value, list_names=None) -> str | None:
    """A setting's value in people's words (its field's choice, On/Off, the inclusion list),
    or None when there are no words for it (the tab's "what changed", the audit log). A
    HubSpot list goes by its name in ``list_names`` (by id, as HubSpot gave it when noted)."""
    if name == "lifecycle_transitions" and isinstance(value, bool):
        value = "update" if value else "nothing"
    if isinstance(value, bool):
        return str(_("On") if value else _("Off"))
    if name == "inclusion_list_id":
        if value and isinstance(list_names, dict) and list_names.get(str(value)):
            return str(list_names[str(value)])
        if value:
            return str(_("List %(id)s") % {"id": value})
        if object_name == "companies":
            return str(_("No list: all companies sync"))
        return str(_("No list: all contacts sync"))
    form = _settings_form(object_name)
    field = form.base_fields.get(name) if form else None
    choices = dict(getattr(field, "choices", None) or [])
    return str(choices[value]) if isinstance(value, str) and value in choices else None
