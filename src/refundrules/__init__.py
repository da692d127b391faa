"""refundrules: predict how an e-commerce refund dispute will end, from YAML rule packs.

>>> import refundrules
>>> pack = refundrules.load_rule_pack("pinduoduo")
>>> case = refundrules.load_case("examples/01_awaiting_seller.yaml")  # doctest: +SKIP
>>> pack.predict(case).stage  # doctest: +SKIP
<Stage.AWAITING_SELLER: 'awaiting_seller'>
"""

from refundrules._case import (
    BuyerProfile,
    Case,
    Event,
    Evidence,
    Logistics,
    Order,
    RefundRequest,
    StoreProfile,
    load_case,
)
from refundrules._prediction import (
    BuyerFlag,
    Compensation,
    Deadline,
    MetricChange,
    PackRef,
    PredictedResolution,
    Prediction,
    Reason,
    RecommendedAction,
    Sanction,
    SellerConsequences,
)
from refundrules._profile import PlatformProfile
from refundrules._rulepack import PackVersion, RulePack, load_rule_pack
from refundrules._vocabulary import (
    EventKind,
    EvidenceKind,
    LogisticsStatus,
    Party,
    RefundReason,
    RequestKind,
    Resolution,
    ReturnShippingPayer,
    SellerRefusalReason,
    Stage,
)
from refundrules.exceptions import (
    CaseError,
    EngineError,
    EvaluationError,
    RefundRulesError,
    RulePackError,
)

__version__ = "0.1.0"

__all__ = [
    "BuyerFlag",
    "BuyerProfile",
    "Case",
    "CaseError",
    "Compensation",
    "Deadline",
    "EngineError",
    "EvaluationError",
    "Event",
    "EventKind",
    "Evidence",
    "EvidenceKind",
    "Logistics",
    "LogisticsStatus",
    "MetricChange",
    "Order",
    "PackRef",
    "PackVersion",
    "Party",
    "PlatformProfile",
    "PredictedResolution",
    "Prediction",
    "Reason",
    "RecommendedAction",
    "RefundReason",
    "RefundRequest",
    "RefundRulesError",
    "RequestKind",
    "Resolution",
    "ReturnShippingPayer",
    "RulePack",
    "RulePackError",
    "Sanction",
    "SellerConsequences",
    "SellerRefusalReason",
    "Stage",
    "StoreProfile",
    "load_case",
    "load_rule_pack",
]
