// The frontend's optimizers and learning-rate schedulers, in one include (torch::optim's
// counterpart). See each header for its contract; none is synchronized.
#ifndef CORTADO_FRONTEND_OPTIM_OPTIM_H_
#define CORTADO_FRONTEND_OPTIM_OPTIM_H_

#include "frontend/optim/adam.h"
#include "frontend/optim/lr_scheduler.h"
#include "frontend/optim/optimizer.h"
#include "frontend/optim/sgd.h"

#endif  // CORTADO_FRONTEND_OPTIM_OPTIM_H_
