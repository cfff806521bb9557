#ifndef FLUXFORGE_CHIREDIS_SHIM_H
#define FLUXFORGE_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
