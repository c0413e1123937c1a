// Sends whole Ethernet frames out of one interface through an AF_PACKET socket, synchronously: one JS
// call sends a batch `repeat` times over. Kept deliberately simple; it exists to feed the capture tests.
#include "inject.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "js_failure.h"
#include "sys_failure.h"

namespace dsiem {

namespace {

struct Frame {
  const uint8_t* data;
  size_t length;
};

// How long one ENOBUFS (the peer's backlog is full) may keep us waiting before we give up: 1 ms × 2000.
constexpr int kNoBufferRetries = 2000;

SysFailure SendFrames(const std::string& ifname, const std::vector<Frame>& frames, uint32_t repeat,
                      double* sent) {
  // Protocol 0: the socket only sends, so it never queues a copy of the traffic for itself.
  const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return Failed(errno, "socket", "socket");
  SysFailure failure = Succeeded();
  const unsigned int ifindex = if_nametoindex(ifname.c_str());
  sockaddr_ll address;
  std::memset(&address, 0, sizeof(address));
  address.sll_family = AF_PACKET;
  address.sll_ifindex = static_cast<int>(ifindex);
  const int one = 1;
  if (ifindex == 0) {
    failure = Failed(errno != 0 ? errno : ENODEV, "if_nametoindex", "interface");
  } else if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    failure = Failed(errno, "bind", "bind");
  } else {
    // Straight to the driver where the kernel allows it; the qdisc adds nothing for a test sender.
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
  }
  for (uint32_t round = 0; failure.ok() && round < repeat; round++) {
    for (const Frame& frame : frames) {
      int retries = 0;
      while (send(fd, frame.data, frame.length, 0) < 0) {
        if (errno == EINTR) continue;
        if (errno != ENOBUFS || ++retries > kNoBufferRetries) {
          failure = Failed(errno, "send", "send");
          break;
        }
        pollfd writable = {fd, POLLOUT, 0};
        poll(&writable, 1, 1);
      }
      if (!failure.ok()) break;
      *sent += 1;
    }
  }
  close(fd);
  return failure;
}

}  // namespace

Napi::Value Inject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsNumber()) {
    return FailureToJs(env, Failed(EINVAL, "inject", "arguments"));
  }
  const double repeat = info[2].As<Napi::Number>().DoubleValue();
  if (!(repeat >= 0 && repeat <= 4294967295.0) || std::floor(repeat) != repeat) {
    return FailureToJs(env, Failed(EINVAL, "inject", "arguments"));
  }
  // The views stay valid for the whole call: nothing here runs JS, so nothing can detach or move them.
  Napi::Array list = info[1].As<Napi::Array>();
  std::vector<Frame> frames;
  frames.reserve(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    if (item.IsEmpty() || !item.IsTypedArray()) return FailureToJs(env, Failed(EINVAL, "inject", "arguments"));
    Napi::TypedArray array = item.As<Napi::TypedArray>();
    if (array.TypedArrayType() != napi_uint8_array) return FailureToJs(env, Failed(EINVAL, "inject", "arguments"));
    Napi::Uint8Array bytes = item.As<Napi::Uint8Array>();
    frames.push_back(Frame{bytes.Data(), bytes.ByteLength()});
  }
  double sent = 0;
  const SysFailure failure =
      SendFrames(info[0].As<Napi::String>().Utf8Value(), frames, static_cast<uint32_t>(repeat), &sent);
  if (!failure.ok()) {
    Napi::Object result = FailureToJs(env, failure);
    result.Set("sent", Napi::Number::New(env, sent));
    return result;
  }
  return Napi::Number::New(env, sent);
}

}  // namespace dsiem
