
Ÿ
g
"
telemetry.sdk.language
python

telemetry.sdk.name
mlflow
!
telemetry.sdk.version
3.17.2³°
ÓüµW'£¡ªOŒP—-ñ€sZMœuŸ>"Ž_éj±'×*retrieve_context9<H º$ÑëA¤¥º$ÑëJ>
mlflow.traceRequestId%
#tr-d3fcb55727a3a1aa4f8f8c50972df180J
mlflow.spanType
	RETRIEVERJ-
mlflow.spanFunctionName
retrieve_contextJ6
mlflow.spanInputs!2

question
What is MLflow?J~
mlflow.spanOutputsh*f
d2b
3
page_content#
!MLflow is an open source platform
+
metadata2

doc_uri
docs/mlflow.mdJ
mlflow.spanLogLevelz