// Capture: the N-API side of the ring. One JS call per retired block, never one per packet; the block goes
// back to the kernel only when JS calls release(), so a slow consumer really fills the ring.
#include "capture.h"

#include <errno.h>

#include "js_failure.h"
#include "js_options.h"

namespace dsiem {

Napi::Function Capture::Define(Napi::Env env) {
  return DefineClass(env, "Capture",
                     {
                         InstanceMethod<&Capture::Open>("open"),
                         InstanceMethod<&Capture::Start>("start"),
                         InstanceMethod<&Capture::Release>("release"),
                         InstanceMethod<&Capture::Stats>("stats"),
                         InstanceMethod<&Capture::Close>("close"),
                     });
}

Capture::Capture(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Capture>(info) {}

Capture::~Capture() { Shutdown(false); }

// open(ifname, options) → undefined | {errno, syscall, step}
Napi::Value Capture::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RingOptions options;
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject() ||
      !ReadRingOptions(info[1].As<Napi::Object>(), &options)) {
    return FailureToJs(env, Failed(EINVAL, "open", "arguments"));
  }
  if (ring_.is_open() || started_) return FailureToJs(env, Failed(EALREADY, "open", "arguments"));
  const SysFailure failure = ring_.Open(info[0].As<Napi::String>().Utf8Value(), options);
  if (!failure.ok()) return FailureToJs(env, failure);
  views_.clear();
  views_.resize(ring_.block_count());
  next_block_ = 0;
  outstanding_ = 0;
  failed_ = false;
  idle_interval_ms_ = options.block_timeout_ms > 0 ? options.block_timeout_ms : 1;
  return env.Undefined();
}

// start(onBlock(index, arrayBuffer, count, table), onError(failure)) → undefined | failure
Napi::Value Capture::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction()) {
    return FailureToJs(env, Failed(EINVAL, "start", "arguments"));
  }
  if (!ring_.is_open() || started_) return FailureToJs(env, Failed(EALREADY, "start", "arguments"));

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    return FailureToJs(env, Failed(EINVAL, "napi_get_uv_event_loop", "poll"));
  }
  LoopHandles* handles = new LoopHandles();
  handles->owner = this;
  handles->open = 1;
  uv_timer_init(loop, &handles->timer);
  handles->timer.data = handles;
  const int rc = uv_poll_init(loop, &handles->poll, ring_.fd());
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&handles->timer), OnHandleClosed);
    return FailureToJs(env, Failed(-rc, "uv_poll_init", "poll"));
  }
  handles->poll.data = handles;
  handles->open = 2;
  handles_ = handles;

  on_block_ = Napi::Persistent(info[0].As<Napi::Function>());
  on_error_ = Napi::Persistent(info[1].As<Napi::Function>());
  async_context_ = std::make_unique<Napi::AsyncContext>(env, "dsiem:capture");
  started_ = true;
  paused_ = true;  // so ResumePolling() starts the poll
  Ref();           // a capture that is polling must not be garbage collected
  if (napi_add_env_cleanup_hook(env, OnEnvCleanup, this) == napi_ok) cleanup_hook_ = true;
  ResumePolling();
  return env.Undefined();
}

// release(index) → whether the block was handed out and is now the kernel's again
Napi::Value Capture::Release(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return Napi::Boolean::New(env, false);
  const double number = info[0].As<Napi::Number>().DoubleValue();
  if (!(number >= 0 && number < static_cast<double>(views_.size()))) return Napi::Boolean::New(env, false);
  const uint32_t index = static_cast<uint32_t>(number);
  if (views_[index].IsEmpty()) return Napi::Boolean::New(env, false);
  views_[index].Value().Detach();
  views_[index].Reset();
  outstanding_--;
  ring_.ReleaseBlock(index);
  if (started_ && paused_ && !failed_) ResumePolling();
  return Napi::Boolean::New(env, true);
}

// stats() → {packets, drops, freezes} since open (still readable after close) | failure
Napi::Value Capture::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const SysFailure failure = ring_.ReadStats();
  if (!failure.ok()) return FailureToJs(env, failure);
  const RingStats& totals = ring_.stats();
  Napi::Object stats = Napi::Object::New(env);
  stats.Set("packets", Napi::Number::New(env, static_cast<double>(totals.packets)));
  stats.Set("drops", Napi::Number::New(env, static_cast<double>(totals.drops)));
  stats.Set("freezes", Napi::Number::New(env, static_cast<double>(totals.freezes)));
  return stats;
}

// close(): stop polling, detach every view still held by JS, unmap, close the socket. Idempotent.
Napi::Value Capture::Close(const Napi::CallbackInfo& info) {
  Shutdown(true);
  return info.Env().Undefined();
}

void Capture::OnPoll(uv_poll_t* handle, int status, int /*events*/) {
  LoopHandles* handles = static_cast<LoopHandles*>(handle->data);
  Capture* self = handles->owner;
  if (self == nullptr) return;
  Napi::HandleScope scope(self->Env());
  [[maybe_unused]] Napi::Object keep_alive = self->Value();
  if (status < 0) {
    // libuv reports POLLERR as a bare error and stops the handle; the socket knows the real reason
    // (ENETDOWN when the interface went down or away). Hand over what arrived before it first.
    self->Drain();
    if (!self->started_) return;
    const int error = self->ring_.TakeSocketError();
    self->failed_ = true;
    uv_poll_stop(&self->handles_->poll);
    uv_timer_stop(&self->handles_->timer);
    self->ReportError(Failed(error != 0 ? error : -status, "poll", "poll"));
    return;
  }
  const uint32_t delivered = self->Drain();
  // Nothing new but blocks still held by JS: the socket stays readable until they come back, so stop
  // polling instead of spinning; release() resumes, and a timer keeps picking up newly retired blocks.
  if (delivered == 0 && self->outstanding_ > 0 && self->started_ && !self->paused_) self->PausePolling();
}

void Capture::OnTimer(uv_timer_t* handle) {
  LoopHandles* handles = static_cast<LoopHandles*>(handle->data);
  Capture* self = handles->owner;
  if (self == nullptr) return;
  Napi::HandleScope scope(self->Env());
  [[maybe_unused]] Napi::Object keep_alive = self->Value();
  if (self->Drain() > 0 && self->started_ && self->paused_ && !self->failed_) self->ResumePolling();
}

void Capture::OnHandleClosed(uv_handle_t* handle) {
  LoopHandles* handles = static_cast<LoopHandles*>(handle->data);
  if (--handles->open == 0) delete handles;
}

void Capture::OnEnvCleanup(void* capture) {
  Capture* self = static_cast<Capture*>(capture);
  self->cleanup_hook_ = false;  // running now; it must not be removed from inside itself
  self->Shutdown(false);
}

// Walks all ready blocks in ring order, handing each to JS once. Returns how many it handed over.
uint32_t Capture::Drain() {
  Napi::Env env = Env();
  uint32_t delivered = 0;
  draining_ = true;
  while (started_ && ring_.is_open()) {
    const uint32_t index = next_block_;
    if (!views_[index].IsEmpty() || !ring_.BlockReady(index)) break;
    next_block_ = (index + 1) % ring_.block_count();
    const uint32_t packets = ring_.PacketCount(index);
    if (packets == 0) {
      ring_.ReleaseBlock(index);
      continue;
    }
    Napi::HandleScope scope(env);
    Napi::Uint32Array table = Napi::Uint32Array::New(env, static_cast<size_t>(packets) * kColumnCount);
    const uint32_t described = ring_.DescribeBlock(index, table.Data(), packets);
    if (described == 0) {
      ring_.ReleaseBlock(index);
      continue;
    }
    // No finalizer: the memory is the ring's. Release and close detach the view before it goes away.
    Napi::ArrayBuffer view = Napi::ArrayBuffer::New(env, ring_.BlockData(index), ring_.block_size());
    views_[index] = Napi::Persistent(view);
    outstanding_++;
    delivered++;
    on_block_.MakeCallback(Value(), {Napi::Number::New(env, index), view, Napi::Number::New(env, described), table},
                           *async_context_);
    if (env.IsExceptionPending()) {
      // Nobody above us can catch it: make it the process's uncaught exception, as any I/O callback's is.
      Napi::Error error = env.GetAndClearPendingException();
      napi_fatal_exception(env, error.Value());
      break;
    }
  }
  draining_ = false;
  if (!started_) DropCallbacks();  // close() was called from inside a callback
  return delivered;
}

void Capture::PausePolling() {
  uv_poll_stop(&handles_->poll);
  uv_timer_start(&handles_->timer, OnTimer, idle_interval_ms_, idle_interval_ms_);
  paused_ = true;
}

void Capture::ResumePolling() {
  uv_timer_stop(&handles_->timer);
  const int rc = uv_poll_start(&handles_->poll, UV_READABLE, OnPoll);
  paused_ = false;
  if (rc != 0) {
    failed_ = true;
    ReportError(Failed(-rc, "uv_poll_start", "poll"));
  }
}

void Capture::ReportError(const SysFailure& failure) {
  if (on_error_.IsEmpty()) return;
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  const bool was_draining = draining_;
  draining_ = true;  // close() from the handler must not free the callback while it runs
  on_error_.MakeCallback(Value(), {FailureToJs(env, failure)}, *async_context_);
  draining_ = was_draining;
  if (env.IsExceptionPending()) {
    Napi::Error error = env.GetAndClearPendingException();
    napi_fatal_exception(env, error.Value());
  }
  if (!started_ && !draining_) DropCallbacks();
}

void Capture::Shutdown(bool from_js) {
  if (handles_ != nullptr) {
    handles_->owner = nullptr;
    uv_poll_stop(&handles_->poll);
    uv_timer_stop(&handles_->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&handles_->poll), OnHandleClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&handles_->timer), OnHandleClosed);
    handles_ = nullptr;
  }
  for (Napi::Reference<Napi::ArrayBuffer>& view : views_) {
    if (view.IsEmpty()) continue;
    // From JS a handle scope is active; from a finalizer or env teardown no JS can touch the view again.
    if (from_js) view.Value().Detach();
    view.Reset();
  }
  views_.clear();
  outstanding_ = 0;
  ring_.Close();
  if (cleanup_hook_) {
    napi_remove_env_cleanup_hook(Env(), OnEnvCleanup, this);
    cleanup_hook_ = false;
  }
  if (started_) {
    started_ = false;
    paused_ = false;
    if (from_js) Unref();
    if (!draining_) DropCallbacks();
  }
}

void Capture::DropCallbacks() {
  on_block_.Reset();
  on_error_.Reset();
  async_context_.reset();
}

}  // namespace dsiem
