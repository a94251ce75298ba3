"""The front desk's views, one module per purpose: calendar.py (the clinic calendar),
booking.py (phone bookings), appointments.py (a visit: detail, move, status, cancel),
patients.py (search, records, edits), plans.py (series and plans due), waitlist.py and
reports.py (the owner's report). Helpers they share live in common.py.
"""
