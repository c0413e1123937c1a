// A TPACKET_V3 receive ring on an AF_PACKET socket: socket setup, the mmap'd blocks, handing blocks back
// to the kernel and the drop counters. Knows nothing about Node: capture.cc moves blocks into JS.
#ifndef DSIEM_RING_H_
#define DSIEM_RING_H_

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sys_failure.h"

namespace dsiem {

// Everything arrives already validated and defaulted by src/roles/io/capture-options.ts.
struct RingOptions {
  uint32_t block_size = 0;
  uint32_t block_count = 0;
  uint32_t frame_size = 0;
  uint32_t block_timeout_ms = 0;
  bool promiscuous = false;
  bool fanout = false;
  uint16_t fanout_id = 0;
  std::string fanout_mode;  // "hash" | "cpu" | "qm" | "lb"
  bool fanout_defrag = false;
  std::vector<sock_filter> filter;  // empty: no filter attached
};

// Totals since Open(); the kernel resets its counters on every read, so they are summed here.
struct RingStats {
  uint64_t packets = 0;  // tp_packets: every packet that passed the filter, dropped ones included
  uint64_t drops = 0;    // tp_drops: no room in the ring
  uint64_t freezes = 0;  // tp_freeze_q_cnt: times the queue froze because user space held the next block
};

// Sizes the TS side needs to validate block and frame sizes before calling Open().
struct RingLayout {
  uint32_t page_size;
  uint32_t block_header_bytes;  // where the first packet of a block may start at the earliest
  uint32_t frame_header_bytes;  // bytes in front of the link-layer header of every packet, rounded up
};

RingLayout QueryRingLayout();

// Column order of the per-packet table DescribeBlock() fills: column c of packet i is at table[c*stride+i].
enum PacketColumn : uint32_t {
  kColumnOffset,   // start of the link-layer header, from the start of the block
  kColumnCapLen,   // bytes captured
  kColumnWireLen,  // bytes on the wire
  kColumnTsSec,
  kColumnTsNsec,
  kColumnVlanTci,  // 0xffffffff when the kernel stripped no 802.1Q tag
  kColumnStatus,   // tp_status bits (TP_STATUS_CSUM_VALID, TP_STATUS_CSUMNOTREADY, TP_STATUS_VLAN_VALID, …)
  kColumnCount
};

class PacketRing {
 public:
  PacketRing() = default;
  ~PacketRing();
  PacketRing(const PacketRing&) = delete;
  PacketRing& operator=(const PacketRing&) = delete;

  SysFailure Open(const std::string& ifname, const RingOptions& options);
  // Reads the counters one last time, unmaps the ring and closes the socket. Safe to call twice.
  void Close();

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  uint32_t block_count() const { return block_count_; }
  uint32_t block_size() const { return block_size_; }

  // True when the kernel has retired block `index` and it belongs to user space.
  bool BlockReady(uint32_t index) const;
  uint8_t* BlockData(uint32_t index) const;
  uint32_t PacketCount(uint32_t index) const;
  // Walks the packets of a ready block into `table` (kColumnCount columns of `stride` entries) and returns
  // how many it described (fewer than PacketCount() only if the block is inconsistent).
  uint32_t DescribeBlock(uint32_t index, uint32_t* table, uint32_t stride) const;
  // Gives block `index` back to the kernel, which may overwrite it from now on.
  void ReleaseBlock(uint32_t index);

  // Adds the kernel's counters since the previous read to the totals.
  SysFailure ReadStats();
  const RingStats& stats() const { return totals_; }
  // The socket's pending error (SO_ERROR), e.g. ENETDOWN after the interface went away; 0 if none.
  int TakeSocketError() const;

 private:
  SysFailure Setup(const std::string& ifname, const RingOptions& options);

  int fd_ = -1;
  uint8_t* map_ = nullptr;
  size_t map_size_ = 0;
  uint32_t block_size_ = 0;
  uint32_t block_count_ = 0;
  RingStats totals_;
};

}  // namespace dsiem

#endif  // DSIEM_RING_H_
