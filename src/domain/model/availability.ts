// Availability as set by the CSMS (1.6 ChangeAvailability, 2.0.1 ChangeAvailability), per EVSE
// and for the station; kept across reboots.

export type Operational = 'Operative' | 'Inoperative';

/** A change of availability: now, once the running transactions end, or not at all. */
export type AvailabilityResult = 'Accepted' | 'Scheduled' | 'Rejected';
