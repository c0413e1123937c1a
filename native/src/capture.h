// The JS-facing capture object: opens a PacketRing, polls its socket on Node's own event loop and hands
// every retired block to JS once, as a view over the ring (no copy) plus one per-packet table.
#ifndef DSIEM_CAPTURE_H_
#define DSIEM_CAPTURE_H_

#include <napi.h>
#include <uv.h>

#include <memory>
#include <vector>

#include "ring.h"

namespace dsiem {

class Capture : public Napi::ObjectWrap<Capture> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Capture(const Napi::CallbackInfo& info);
  ~Capture() override;

 private:
  // The libuv handles live apart from the object: uv_close() finishes after the object may be gone.
  struct LoopHandles {
    uv_poll_t poll;
    uv_timer_t timer;
    Capture* owner;
    int open;
  };

  Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* handle);
  static void OnHandleClosed(uv_handle_t* handle);
  static void OnEnvCleanup(void* capture);

  uint32_t Drain();
  void PausePolling();
  void ResumePolling();
  void ReportError(const SysFailure& failure);
  void Shutdown(bool from_js);
  void DropCallbacks();

  PacketRing ring_;
  LoopHandles* handles_ = nullptr;
  Napi::FunctionReference on_block_;
  Napi::FunctionReference on_error_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  // The view handed out for each block JS still holds; detached on release so stale views read nothing.
  std::vector<Napi::Reference<Napi::ArrayBuffer>> views_;
  uint32_t next_block_ = 0;
  uint32_t outstanding_ = 0;
  uint32_t idle_interval_ms_ = 10;
  bool started_ = false;
  bool paused_ = false;
  bool draining_ = false;
  bool failed_ = false;  // polling stopped for good after a socket error
  bool cleanup_hook_ = false;
};

}  // namespace dsiem

#endif  // DSIEM_CAPTURE_H_
