"""The patient's pages: times.py (free times, locations, opening hours), draft.py (the
booking draft in the session), booking_flow.py (/book/) and my.py (/my/)."""
