"""The sandbox's data about HubSpot's other standard objects (source_hubspot/objects.py, STANDARD_OBJECTS): a few of
each one's built-in properties (HubSpot's names, from its object guides; a real portal has many more), what a read
without `properties` returns, and how many records a demo portal holds.

The sandbox generates none of these objects unless asked (`--products 40`, or `counts` in SandboxConfig): every
existing workload, the benchmarks' among them, reads the same portal it read before they were added.
"""
from __future__ import annotations

from typing import Callable, Dict, List

from sandbox.properties import OWNER_IDS, PropSpec

# What a read that names no properties returns, where HubSpot's guides show more than the creation and
# modification dates and hs_object_id (every other standard object).
DEFAULT_PROPERTIES: Dict[str, List[str]] = {
    "products": ["name", "price", "description", "createdate", "hs_lastmodifieddate", "hs_object_id"],
    "line_items": ["name", "price", "quantity", "amount", "hs_product_id", "createdate", "hs_lastmodifieddate",
                   "hs_object_id"],
    "quotes": ["hs_title", "hs_status", "hs_expiration_date", "hs_public_url_key", "hs_createdate",
               "hs_lastmodifieddate", "hs_object_id"],
}

# Records per object in `make demo`'s portal (and the integration tests' one for these objects).
DEMO_COUNTS: Dict[str, int] = {
    "products": 40, "line_items": 120, "quotes": 30, "leads": 60, "goal_targets": 12, "communications": 50,
    "postal_mail": 10, "feedback_submissions": 45, "orders": 35, "carts": 20, "invoices": 30,
    "commerce_payments": 25, "subscriptions": 15, "discounts": 8, "fees": 6, "taxes": 5, "appointments": 20,
    "courses": 8, "listings": 15, "services": 10, "users": 12,
}


def _s(name: str, label: str, **kw) -> PropSpec:
    return PropSpec(name, "string", label=label, **kw)


def _n(name: str, label: str, **kw) -> PropSpec:
    return PropSpec(name, "number", label=label, **kw)


def _dt(name: str, label: str, **kw) -> PropSpec:
    return PropSpec(name, "datetime", label=label, **kw)


def _e(name: str, label: str, options: List[str], **kw) -> PropSpec:
    return PropSpec(name, "enumeration", label=label, options=options, **kw)


def _owner() -> PropSpec:
    return _e("hubspot_owner_id", "Owner", OWNER_IDS)


def _pricing() -> List[PropSpec]:
    return [_s("hs_label", "Label", null_pct=0), _e("hs_type", "Type", ["PERCENT", "FIXED"], null_pct=0),
            _n("hs_value", "Value", null_pct=0)]


# object -> its built-in properties (beside the creation and modification dates and hs_object_id, which every
# object gets from its registry entry)
BUILTIN: Dict[str, Callable[[], List[PropSpec]]] = {
    "products": lambda: [
        _s("name", "Name", null_pct=0), _s("description", "Description", field_type="textarea"),
        _n("price", "Unit price"), _s("hs_sku", "SKU"), _n("hs_cost_of_goods_sold", "Unit cost"),
        _e("hs_product_type", "Product type", ["inventory", "non_inventory", "service"]),
        _e("hs_recurring_billing_period", "Term", ["P1M", "P3M", "P12M"])],
    "line_items": lambda: [
        _s("name", "Name", null_pct=0), _n("quantity", "Quantity", null_pct=0), _n("price", "Unit price"),
        _n("amount", "Net price"), _s("hs_product_id", "Product ID"), _n("hs_discount_percentage", "Discount"),
        _e("hs_recurring_billing_period", "Term", ["P1M", "P3M", "P12M"])],
    "quotes": lambda: [
        _s("hs_title", "Quote name", null_pct=0),
        _e("hs_status", "Quote approval status", ["DRAFT", "APPROVAL_NOT_NEEDED", "PENDING_APPROVAL", "APPROVED",
                                                   "REJECTED"], null_pct=0),
        _dt("hs_expiration_date", "Quote expiration date"), _s("hs_public_url_key", "Public URL key"),
        _n("hs_quote_amount", "Quote amount"), _e("hs_currency", "Currency", ["USD", "EUR", "GBP"]), _owner()],
    "leads": lambda: [
        _s("hs_lead_name", "Lead name", null_pct=0), _e("hs_lead_type", "Lead type", ["NEW_BUSINESS", "UPSELL",
                                                                                       "RE_ATTEMPTING"]),
        _e("hs_lead_label", "Lead label", ["COLD", "WARM", "HOT"]),
        _e("hs_pipeline_stage", "Lead stage", ["new-stage-id", "attempting-stage-id", "connected-stage-id",
                                               "qualified-stage-id", "unqualified-stage-id"], null_pct=0), _owner()],
    "goal_targets": lambda: [
        _s("hs_goal_name", "Goal name", null_pct=0), _n("hs_target_amount", "Target amount"),
        _dt("hs_start_datetime", "Start date"), _dt("hs_end_datetime", "End date"),
        _s("hs_assignee_user_id", "Assignee user ID")],
    "communications": lambda: [
        _dt("hs_timestamp", "Activity date", null_pct=0),
        _e("hs_communication_channel_type", "Channel type", ["WHATS_APP", "LINKEDIN_MESSAGE", "SMS"], null_pct=0),
        _e("hs_communication_logged_from", "Logged from", ["CRM"]),
        _s("hs_communication_body", "Body", field_type="textarea"), _owner()],
    "postal_mail": lambda: [
        _dt("hs_timestamp", "Activity date", null_pct=0), _s("hs_postal_mail_body", "Body", field_type="textarea"),
        _owner()],
    "feedback_submissions": lambda: [
        _e("hs_survey_type", "Survey type", ["NPS", "CSAT", "CES", "CUSTOM"], null_pct=0),
        _n("hs_response_value", "Response value"), _s("hs_content", "Response", field_type="textarea"),
        _e("hs_sentiment", "Sentiment", ["POSITIVE", "NEUTRAL", "NEGATIVE"])],
    "orders": lambda: [
        _s("hs_order_name", "Name", null_pct=0), _n("hs_total_price", "Total price"),
        _e("hs_currency_code", "Currency", ["USD", "EUR", "GBP"]),
        _e("hs_fulfillment_status", "Fulfillment status", ["unfulfilled", "partially_fulfilled", "fulfilled"]),
        _s("hs_external_order_id", "External order ID")],
    "carts": lambda: [
        _s("hs_cart_name", "Name", null_pct=0), _n("hs_total_price", "Total price"),
        _e("hs_currency_code", "Currency", ["USD", "EUR", "GBP"]), _s("hs_cart_url", "Cart URL")],
    "invoices": lambda: [
        _s("hs_number", "Invoice number", null_pct=0),
        _e("hs_invoice_status", "Invoice status", ["draft", "open", "paid", "voided"], null_pct=0),
        _n("hs_amount_billed", "Amount billed"), _dt("hs_due_date", "Due date"),
        _e("hs_currency", "Currency", ["USD", "EUR", "GBP"])],
    "commerce_payments": lambda: [
        _n("hs_initial_amount", "Gross amount", null_pct=0),
        _e("hs_latest_status", "Status", ["succeeded", "failed", "processing", "refunded"], null_pct=0),
        _e("hs_payment_method_type", "Payment method", ["card", "ach"]),
        _e("hs_currency_code", "Currency", ["USD", "EUR", "GBP"])],
    "subscriptions": lambda: [
        _s("hs_name", "Name", null_pct=0),
        _e("hs_status", "Status", ["active", "canceled", "past_due", "expired"], null_pct=0),
        _e("hs_recurring_billing_period", "Billing frequency", ["P1M", "P3M", "P12M"]),
        _dt("hs_next_payment_due_date", "Next payment due date"), _n("hs_last_payment_amount", "Last payment amount")],
    "discounts": _pricing,
    "fees": _pricing,
    "taxes": _pricing,
    "appointments": lambda: [
        _s("hs_appointment_name", "Appointment name", null_pct=0), _dt("hs_appointment_start", "Start"),
        _dt("hs_appointment_end", "End"),
        _e("hs_appointment_status", "Status", ["SCHEDULED", "COMPLETED", "CANCELED"]), _owner()],
    "courses": lambda: [
        _s("hs_course_name", "Course name", null_pct=0),
        _s("hs_course_description", "Description", field_type="textarea"), _owner()],
    "listings": lambda: [
        _s("hs_name", "Listing name", null_pct=0), _n("hs_price", "Price"), _s("hs_address_1", "Address"),
        _s("hs_city", "City"), _n("hs_bedrooms", "Bedrooms"), _n("hs_bathrooms", "Bathrooms"),
        _e("hs_listing_type", "Listing type", ["house", "apartment", "condos_co_ops", "townhouse", "land"]), _owner()],
    "services": lambda: [
        _s("hs_name", "Service name", null_pct=0), _s("hs_description", "Description", field_type="textarea"),
        _e("hs_pipeline_stage", "Stage", ["new", "in_progress", "completed"]), _owner()],
    "users": lambda: [
        _s("hs_email", "Email", null_pct=0), _s("hs_given_name", "First name"), _s("hs_family_name", "Last name"),
        _s("hs_job_title", "Job title"), _e("hs_standard_time_zone", "Time zone", ["US/Eastern", "Europe/Berlin"]),
        _s("hs_internal_user_id", "User ID", null_pct=0)],
}
