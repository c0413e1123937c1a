// Turns a SysFailure into the plain object JS receives ({errno, syscall, step}) instead of an exception.
#ifndef DSIEM_JS_FAILURE_H_
#define DSIEM_JS_FAILURE_H_

#include <napi.h>

#include "sys_failure.h"

namespace dsiem {

inline Napi::Object FailureToJs(Napi::Env env, const SysFailure& failure) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("errno", Napi::Number::New(env, failure.errnum));
  object.Set("syscall", Napi::String::New(env, failure.syscall));
  object.Set("step", Napi::String::New(env, failure.step));
  return object;
}

}  // namespace dsiem

#endif  // DSIEM_JS_FAILURE_H_
