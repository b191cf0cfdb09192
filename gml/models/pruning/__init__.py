"""Channel pruning (DMCP) on plain mmcls backbones: channel groups, Markov bucket chains, expected FLOPs and
losses, pruned-network builders. The algorithm is ``gml.DMCP`` (:mod:`gml.models.algorithms.dmcp`), its mutator
``gml.DMCPMutator`` (:mod:`gml.models.mutators.dmcp`)."""
from .channel_space import SUPPORTED_BACKBONES, ChannelGroup
from .flops import DEAD_ZONE, FlopsLossType, FlopsModel, flops_loss
from .markov import BucketLayout, expected_channels, keep_probs, transition_probs
from .markov_search import MarkovChainSearcher
from .sampling import SampleType
from .supernet import build_slimmable_classifier, pruned_backbone, pruned_classifier_cfg

__all__ = ["SUPPORTED_BACKBONES", "ChannelGroup", "DEAD_ZONE", "FlopsLossType", "FlopsModel", "flops_loss",
           "BucketLayout", "expected_channels", "keep_probs", "transition_probs", "MarkovChainSearcher", "SampleType",
           "build_slimmable_classifier", "pruned_backbone", "pruned_classifier_cfg"]
