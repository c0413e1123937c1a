// inject(ifname, frames, repeat): our own traffic sender for tests and the capture benchmark.
#ifndef DSIEM_INJECT_H_
#define DSIEM_INJECT_H_

#include <napi.h>

namespace dsiem {

// inject(ifname: string, frames: Uint8Array[], repeat: number) → number sent | {errno, syscall, step, sent}
Napi::Value Inject(const Napi::CallbackInfo& info);

}  // namespace dsiem

#endif  // DSIEM_INJECT_H_
