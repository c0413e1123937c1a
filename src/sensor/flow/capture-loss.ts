// Zeek's capture-loss estimate (policy/misc/capture-loss): among the ACKs of established TCP
// connections, how many acknowledged data the sensor never saw. Packets dropped before the sensor
// (an overloaded SPAN port, a full ring) show up here even when no counter anywhere reports them.

export class CaptureLossCounter {
  /** ACKs seen while both sides of their connection were established. */
  acks = 0
  /** Of those, ACKs that acknowledged bytes the sensor never received. */
  gaps = 0

  snapshot(): {acks: number; gaps: number} {
    return {acks: this.acks, gaps: this.gaps}
  }
}
