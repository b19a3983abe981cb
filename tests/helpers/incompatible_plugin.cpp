// A plugin built for another plugin ABI, as one built against an older corral would be: corrald must
// refuse it, showing both tags, before touching anything else in it. Built a second time with
// CORRAL_TEST_NOT_A_PLUGIN: a shared library that exports nothing of a plugin's.
#include "corral/plugin/plugin.hpp"

#ifdef CORRAL_TEST_NOT_A_PLUGIN
extern "C" __attribute__((visibility("default"))) int some_other_library() {
    return 0;
}
#else

extern "C" __attribute__((visibility("default"))) const char* corral_plugin_abi() {
    return "corral-plugin/0 boost/107400 gxx-abi/1013 cxx11-abi/1";
}

extern "C" __attribute__((visibility("default"))) const corral::plugin::plugin_info* corral_plugin() {
    return nullptr;  // never reached: the tag is checked first
}
#endif
