// Capture.open()'s options object → RingOptions.
#ifndef DSIEM_JS_OPTIONS_H_
#define DSIEM_JS_OPTIONS_H_

#include <napi.h>

#include "ring.h"

namespace dsiem {

// False when a field is missing or out of range (the caller reports EINVAL at step "arguments").
bool ReadRingOptions(const Napi::Object& object, RingOptions* options);

}  // namespace dsiem

#endif  // DSIEM_JS_OPTIONS_H_
