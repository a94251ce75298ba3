"""Every write to appointments, plans, patients and the waitlist: one transaction per
operation, one module per kind of operation. Services take `now` and keyword arguments, raise
a `BookingError` (with the status code a door answers with) when a rule says no, and announce
what changed through booking.events.

`from booking import services` and `services.book_appointment(...)` is how every door calls
them; the names below are the public surface.
"""

from booking.services.appointments import (
    CHECK_IN_OPENS,
    admit,
    book_appointment,
    cancel_appointment,
    change_status,
    check_online_notice,
    overlap_problem,
    record_admin_save,
    reschedule_appointment,
)
from booking.services.audit import audit, field_changes, signed_in_or_none
from booking.services.closed_days import add_us_federal_holidays
from booking.services.errors import (
    BookingError,
    EmailInUse,
    InsideNotice,
    InvalidAnswers,
    OutsideWindow,
    PatientBusy,
    ScreeningRequired,
    SessionNotPlaced,
    SignUpClosed,
    SlotTaken,
    TooManyBookings,
)
from booking.services.limits import check_booking_limit
from booking.services.patients import (
    SIGN_UP_FIELDS,
    account_email_problem,
    carry_email_to_account,
    create_patient,
    link_online_account,
    patients_with_phone,
    phone_region,
    record_sign_up,
    save_patient,
    set_consent,
    set_sms_consent_by_phone,
    snapshot,
)
from booking.services.plans import (
    Proposal,
    book_plan,
    book_plan_session,
    book_remaining_sessions,
    propose_plan,
    start_plan,
)
from booking.services.screening import (
    check_screening,
    check_staff_screening,
    evaluate_answers,
    needs_override,
    record_answers,
    screening_for,
    validate_answers,
)
from booking.services.signups import (
    SignUp,
    SignUpOutcome,
    account_for_email,
    complete_sign_up,
    pending_sign_up,
    sign_up_started_at,
    start_sign_up,
)
from booking.services.slots import (
    FAR_AHEAD_DAYS,
    STAFF_RULES_OVERRIDE,
    closed_day_problem,
    rules_for,
    why_not_bookable,
)

__all__ = [
    "CHECK_IN_OPENS",
    "FAR_AHEAD_DAYS",
    "SIGN_UP_FIELDS",
    "STAFF_RULES_OVERRIDE",
    "BookingError",
    "EmailInUse",
    "InsideNotice",
    "InvalidAnswers",
    "OutsideWindow",
    "PatientBusy",
    "Proposal",
    "ScreeningRequired",
    "SessionNotPlaced",
    "SignUp",
    "SignUpClosed",
    "SignUpOutcome",
    "SlotTaken",
    "add_us_federal_holidays",
    "TooManyBookings",
    "account_email_problem",
    "account_for_email",
    "admit",
    "audit",
    "book_appointment",
    "book_plan",
    "book_plan_session",
    "book_remaining_sessions",
    "cancel_appointment",
    "carry_email_to_account",
    "change_status",
    "check_booking_limit",
    "closed_day_problem",
    "check_online_notice",
    "check_screening",
    "check_staff_screening",
    "complete_sign_up",
    "create_patient",
    "evaluate_answers",
    "field_changes",
    "link_online_account",
    "needs_override",
    "overlap_problem",
    "patients_with_phone",
    "pending_sign_up",
    "phone_region",
    "propose_plan",
    "record_admin_save",
    "record_answers",
    "record_sign_up",
    "reschedule_appointment",
    "rules_for",
    "save_patient",
    "screening_for",
    "set_consent",
    "set_sms_consent_by_phone",
    "sign_up_started_at",
    "signed_in_or_none",
    "snapshot",
    "start_plan",
    "start_sign_up",
    "why_not_bookable",
    "validate_answers",
]
