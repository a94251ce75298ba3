"""Why a booking change was refused: one exception class per reason, each with the HTTP
status a door answers with (400 by default, 409 when the calendar or the patient's own state
is what stands in the way). Every message is written for the person who asked."""


class BookingError(Exception):
    """A booking that cannot be made, with a message for the person booking."""

    status_code = 400

    @property
    def message(self) -> str:
        return str(self)


class SlotTaken(BookingError):
    status_code = 409


class OutsideWindow(BookingError):
    pass


class ScreeningRequired(BookingError):
    """The safety screening does not clear this patient for this treatment (yet)."""

    status_code = 409


class InsideNotice(BookingError):
    """Online changes are closed this close to the visit: the patient must call."""

    status_code = 409


class SessionNotPlaced(BookingError):
    status_code = 409

    def __init__(self, message: str, *, session_number: int):
        super().__init__(message)
        self.session_number = session_number


class PatientBusy(BookingError):
    """The patient already holds another active visit at that time."""

    status_code = 409


class TooManyBookings(BookingError):
    """A patient made more online bookings in an hour than the clinic allows."""

    status_code = 429


class InvalidAnswers(BookingError):
    """Screening answers that do not fit the treatment's questions."""


class SignUpClosed(BookingError):
    """An activation link for an account that is not waiting for one: already activated,
    expired, or deactivated by staff (who alone reactivate accounts)."""


class EmailInUse(BookingError):
    """Another account already signs in with that email."""

    status_code = 409
