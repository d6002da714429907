// Umbrella header of the eager frontend's nn package: Module, the layers, Sequential, the losses
// and nn::init. See each header for its contract.
#ifndef CORTADO_FRONTEND_NN_NN_H_
#define CORTADO_FRONTEND_NN_NN_H_

#include "frontend/nn/activation.h"
#include "frontend/nn/init.h"
#include "frontend/nn/layers.h"
#include "frontend/nn/loss.h"
#include "frontend/nn/module.h"
#include "frontend/nn/pooling.h"
#include "frontend/nn/sequential.h"
#include "frontend/nn/serialize.h"

#endif  // CORTADO_FRONTEND_NN_NN_H_
