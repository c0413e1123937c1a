// Module entry: the Capture class, the inject() sender and the ring layout constants the TS side
// validates options against. src/roles/io/capture.ts is the only module that loads this addon.
#include <napi.h>

#include "capture.h"
#include "inject.h"
#include "ring.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const dsiem::RingLayout layout = dsiem::QueryRingLayout();
  Napi::Object ring_layout = Napi::Object::New(env);
  ring_layout.Set("pageSize", Napi::Number::New(env, layout.page_size));
  ring_layout.Set("blockHeaderBytes", Napi::Number::New(env, layout.block_header_bytes));
  ring_layout.Set("frameHeaderBytes", Napi::Number::New(env, layout.frame_header_bytes));
  exports.Set("ringLayout", ring_layout);
  exports.Set("Capture", dsiem::Capture::Define(env));
  exports.Set("inject", Napi::Function::New(env, dsiem::Inject, "inject"));
  return exports;
}

}  // namespace

NODE_API_MODULE(dsiem_capture, Init)
