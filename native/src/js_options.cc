// Reads the options object JS passes to Capture.open() into RingOptions. The TS side has validated and
// defaulted everything; these checks only keep a wrong call from reaching the kernel or dividing by zero.
#include "js_options.h"

#include <linux/filter.h>

#include <cmath>

namespace dsiem {

namespace {

bool ReadUint32(const Napi::Object& object, const char* key, uint32_t* out) {
  Napi::Value value = object.Get(key);
  if (value.IsEmpty() || !value.IsNumber()) return false;
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= 0 && number <= 4294967295.0) || std::floor(number) != number) return false;
  *out = static_cast<uint32_t>(number);
  return true;
}

bool ReadBool(const Napi::Object& object, const char* key) {
  Napi::Value value = object.Get(key);
  return !value.IsEmpty() && value.IsBoolean() && value.As<Napi::Boolean>().Value();
}

// {code, jt, jf, k}[] → sock_filter[]; the TS side already checked every field's range.
bool ReadFilter(const Napi::Value& value, std::vector<sock_filter>* filter) {
  if (value.IsEmpty() || value.IsUndefined() || value.IsNull()) return true;
  if (!value.IsArray()) return false;
  Napi::Array instructions = value.As<Napi::Array>();
  const uint32_t length = instructions.Length();
  if (length == 0 || length > BPF_MAXINSNS) return false;
  filter->resize(length);
  for (uint32_t i = 0; i < length; i++) {
    Napi::Value item = instructions.Get(i);
    if (item.IsEmpty() || !item.IsObject()) return false;
    Napi::Object instruction = item.As<Napi::Object>();
    uint32_t code, jt, jf, k;
    if (!ReadUint32(instruction, "code", &code) || !ReadUint32(instruction, "jt", &jt) ||
        !ReadUint32(instruction, "jf", &jf) || !ReadUint32(instruction, "k", &k) || code > 0xffff || jt > 0xff ||
        jf > 0xff) {
      return false;
    }
    (*filter)[i] = sock_filter{static_cast<uint16_t>(code), static_cast<uint8_t>(jt), static_cast<uint8_t>(jf), k};
  }
  return true;
}

}  // namespace

bool ReadRingOptions(const Napi::Object& object, RingOptions* options) {
  if (!ReadUint32(object, "blockSize", &options->block_size) ||
      !ReadUint32(object, "blockCount", &options->block_count) ||
      !ReadUint32(object, "frameSize", &options->frame_size) ||
      !ReadUint32(object, "blockTimeoutMs", &options->block_timeout_ms)) {
    return false;
  }
  // Guards the arithmetic in PacketRing::Setup; everything finer is the kernel's (and the TS side's) call.
  if (options->frame_size == 0 || options->frame_size > options->block_size || options->block_count == 0) {
    return false;
  }
  options->promiscuous = ReadBool(object, "promiscuous");
  Napi::Value fanout_id = object.Get("fanoutId");
  if (!fanout_id.IsEmpty() && !fanout_id.IsUndefined()) {
    uint32_t id;
    if (!ReadUint32(object, "fanoutId", &id) || id > 0xffff) return false;
    Napi::Value mode = object.Get("fanoutMode");
    if (mode.IsEmpty() || !mode.IsString()) return false;
    options->fanout = true;
    options->fanout_id = static_cast<uint16_t>(id);
    options->fanout_mode = mode.As<Napi::String>().Utf8Value();
    options->fanout_defrag = ReadBool(object, "fanoutDefrag");
  }
  return ReadFilter(object.Get("filter"), &options->filter);
}

}  // namespace dsiem
