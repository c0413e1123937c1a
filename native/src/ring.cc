// TPACKET_V3 ring setup and block access (see Documentation/networking/packet_mmap.rst in the kernel).
#include "ring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace dsiem {

namespace {

constexpr uint32_t kNoVlan = 0xffffffffu;

uint32_t Align(uint32_t value, uint32_t alignment) { return (value + alignment - 1) & ~(alignment - 1); }

SysFailure SetOption(int fd, int level, int name, const void* value, socklen_t size, const char* step) {
  if (setsockopt(fd, level, name, value, size) != 0) return Failed(errno, "setsockopt", step);
  return Succeeded();
}

bool FanoutModeFromName(const std::string& name, int* mode) {
  if (name == "hash") *mode = PACKET_FANOUT_HASH;
  else if (name == "cpu") *mode = PACKET_FANOUT_CPU;
  else if (name == "qm") *mode = PACKET_FANOUT_QM;
  else if (name == "lb") *mode = PACKET_FANOUT_LB;
  else return false;
  return true;
}

tpacket_block_desc* Descriptor(uint8_t* block) { return reinterpret_cast<tpacket_block_desc*>(block); }

}  // namespace

RingLayout QueryRingLayout() {
  RingLayout layout;
  layout.page_size = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  // The kernel starts a block's first packet after the 8-byte aligned block descriptor (no private area).
  layout.block_header_bytes = Align(sizeof(tpacket_block_desc), 8);
  // In front of each packet: the aligned tpacket3_hdr + sockaddr_ll, then at least 16 bytes of room for the
  // link-layer header before the aligned network header (net/packet/af_packet.c, tpacket_rcv).
  layout.frame_header_bytes = Align(TPACKET3_HDRLEN + 16, TPACKET_ALIGNMENT);
  return layout;
}

PacketRing::~PacketRing() { Close(); }

SysFailure PacketRing::Open(const std::string& ifname, const RingOptions& options) {
  if (is_open()) return Failed(EALREADY, "open", "arguments");
  totals_ = RingStats{};
  SysFailure failure = Setup(ifname, options);
  if (!failure.ok()) Close();
  return failure;
}

SysFailure PacketRing::Setup(const std::string& ifname, const RingOptions& options) {
  // Protocol 0 receives nothing until bind(): the filter and the ring are in place before the first packet.
  fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    fd_ = -1;
    return Failed(errno, "socket", "socket");
  }

  const unsigned int ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0) return Failed(errno != 0 ? errno : ENODEV, "if_nametoindex", "interface");

  const int version = TPACKET_V3;
  SysFailure failure = SetOption(fd_, SOL_PACKET, PACKET_VERSION, &version, sizeof(version), "version");
  if (!failure.ok()) return failure;

  if (!options.filter.empty()) {
    sock_fprog program;
    program.len = static_cast<unsigned short>(options.filter.size());
    program.filter = const_cast<sock_filter*>(options.filter.data());
    failure = SetOption(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof(program), "filter");
    if (!failure.ok()) return failure;
  }

  tpacket_req3 request;
  std::memset(&request, 0, sizeof(request));
  request.tp_block_size = options.block_size;
  request.tp_block_nr = options.block_count;
  request.tp_frame_size = options.frame_size;
  request.tp_frame_nr = (options.block_size / options.frame_size) * options.block_count;
  request.tp_retire_blk_tov = options.block_timeout_ms;
  failure = SetOption(fd_, SOL_PACKET, PACKET_RX_RING, &request, sizeof(request), "ring");
  if (!failure.ok()) return failure;

  map_size_ = static_cast<size_t>(options.block_size) * options.block_count;
  void* map = mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (map == MAP_FAILED) {
    map_size_ = 0;
    return Failed(errno, "mmap", "mmap");
  }
  map_ = static_cast<uint8_t*>(map);
  block_size_ = options.block_size;
  block_count_ = options.block_count;

  sockaddr_ll address;
  std::memset(&address, 0, sizeof(address));
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = static_cast<int>(ifindex);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return Failed(errno, "bind", "bind");
  }

  if (options.promiscuous) {
    // A membership, not IFF_PROMISC: the kernel drops it when the socket closes, even after a crash.
    packet_mreq membership;
    std::memset(&membership, 0, sizeof(membership));
    membership.mr_ifindex = static_cast<int>(ifindex);
    membership.mr_type = PACKET_MR_PROMISC;
    failure = SetOption(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &membership, sizeof(membership), "promiscuous");
    if (!failure.ok()) return failure;
  }

  if (options.fanout) {
    // Joining a group needs a bound socket, so this comes last.
    int mode = 0;
    if (!FanoutModeFromName(options.fanout_mode, &mode)) return Failed(EINVAL, "setsockopt", "fanout");
    if (options.fanout_defrag) mode |= PACKET_FANOUT_FLAG_DEFRAG;
    const int argument = static_cast<int>(options.fanout_id) | (mode << 16);
    failure = SetOption(fd_, SOL_PACKET, PACKET_FANOUT, &argument, sizeof(argument), "fanout");
    if (!failure.ok()) return failure;
  }
  return Succeeded();
}

void PacketRing::Close() {
  if (fd_ >= 0) ReadStats();  // keep what the kernel counted since the last query
  if (map_ != nullptr) munmap(map_, map_size_);
  map_ = nullptr;
  map_size_ = 0;
  block_count_ = 0;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool PacketRing::BlockReady(uint32_t index) const {
  if (map_ == nullptr || index >= block_count_) return false;
  const uint32_t status =
      __atomic_load_n(&Descriptor(BlockData(index))->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
  return (status & TP_STATUS_USER) != 0;
}

uint8_t* PacketRing::BlockData(uint32_t index) const {
  return map_ + static_cast<size_t>(index) * block_size_;
}

uint32_t PacketRing::PacketCount(uint32_t index) const {
  return Descriptor(BlockData(index))->hdr.bh1.num_pkts;
}

uint32_t PacketRing::DescribeBlock(uint32_t index, uint32_t* table, uint32_t stride) const {
  uint8_t* block = BlockData(index);
  const uint32_t total = PacketCount(index) < stride ? PacketCount(index) : stride;
  uint32_t offset = Descriptor(block)->hdr.bh1.offset_to_first_pkt;
  uint32_t described = 0;
  while (described < total) {
    // The kernel wrote these offsets; they are checked anyway so a bad block can never point JS outside it.
    if (offset > block_size_ || block_size_ - offset < sizeof(tpacket3_hdr)) break;
    const tpacket3_hdr* header = reinterpret_cast<const tpacket3_hdr*>(block + offset);
    const uint32_t data = offset + header->tp_mac;
    if (data > block_size_ || header->tp_snaplen > block_size_ - data) break;
    table[kColumnOffset * stride + described] = data;
    table[kColumnCapLen * stride + described] = header->tp_snaplen;
    table[kColumnWireLen * stride + described] = header->tp_len;
    table[kColumnTsSec * stride + described] = header->tp_sec;
    table[kColumnTsNsec * stride + described] = header->tp_nsec;
    table[kColumnVlanTci * stride + described] =
        (header->tp_status & TP_STATUS_VLAN_VALID) != 0 ? header->hv1.tp_vlan_tci : kNoVlan;
    table[kColumnStatus * stride + described] = header->tp_status;
    described++;
    if (header->tp_next_offset == 0) break;
    offset += header->tp_next_offset;
  }
  return described;
}

void PacketRing::ReleaseBlock(uint32_t index) {
  if (map_ == nullptr || index >= block_count_) return;
  // Release order: every read of the block happens before the kernel may see it as its own again.
  __atomic_store_n(&Descriptor(BlockData(index))->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}

SysFailure PacketRing::ReadStats() {
  if (fd_ < 0) return Succeeded();
  tpacket_stats_v3 counters;
  std::memset(&counters, 0, sizeof(counters));
  socklen_t size = sizeof(counters);
  if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &counters, &size) != 0) {
    return Failed(errno, "getsockopt", "stats");
  }
  totals_.packets += counters.tp_packets;
  totals_.drops += counters.tp_drops;
  totals_.freezes += counters.tp_freeze_q_cnt;
  return Succeeded();
}

int PacketRing::TakeSocketError() const {
  if (fd_ < 0) return 0;
  int error = 0;
  socklen_t size = sizeof(error);
  if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return errno;
  return error;
}

}  // namespace dsiem
