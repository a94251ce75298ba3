"""What booking announces: signals sent by the services inside their transaction.

booking never imports the apps built on it; they listen here (connected in their AppConfig's
``ready()``). Every signal is sent with ``Signal.send``, not ``send_robust``, inside the
service's ``transaction.atomic()``: a receiver that raises rolls the change back with it, so
a message row (or any other reaction) exists exactly when the change committed. Receivers
must therefore do only database work in the same transaction; anything slow or external
(sending mail, SMS) is queued as a row and done later.

Every signal passes ``now`` (the service's clock) as a keyword; ``sender`` is the model class
of the main object.
"""

from django.dispatch import Signal

appointment_booked = Signal()
"""A visit was booked. Arguments: ``appointment``, ``now``, ``confirm`` (False for the later
sessions of a course booked at once: the first session's confirmation lists them all),
``online`` (True when the patient booked it themselves, through the web flow or the API;
False for staff: the desk, phone booking, the admin)."""

appointment_rescheduled = Signal()
"""A visit moved. Arguments: ``appointment`` (already at its new time), ``now``,
``previous_start``, ``previous_provider_id``."""

appointment_edited = Signal()
"""Staff set a visit's time directly in the admin (a new visit or a moved one). Arguments:
``appointment``, ``now``, ``created`` (True for a new visit)."""

appointment_cancelled = Signal()
"""A visit was cancelled. Arguments: ``appointment``, ``now``."""

appointment_completed = Signal()
"""A visit was marked completed. Arguments: ``appointment``, ``now``, ``actor`` (who did it,
or None), ``reason`` (what staff wrote, maybe ""). A receiver may refuse the completion by
raising a ``BookingError`` (consent does, when the visit has no valid consent and no reason)."""

waitlist_offered = Signal()
"""A waiting patient was offered a freed time. Arguments: ``entry`` (a WaitlistEntry),
``start`` (the aware instant offered), ``now``."""

patient_consent_changed = Signal()
"""A patient's email or SMS consent changed. Arguments: ``patient``, ``now``, ``changes``
({field: [before, after]})."""
